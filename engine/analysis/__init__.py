"""What the numbers mean: critical points, run diagnosis, the general guide, batch lab, sweeps, slices."""
