"""The simulation core: objectives over surfaces or data, mini-batches, the batched step loop and its history."""
