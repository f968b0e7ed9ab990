"""The viewer's side of a watched simulation: the view model, its plotted plane and curves."""
