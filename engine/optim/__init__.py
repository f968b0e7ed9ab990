"""Optimizers in optax's shape with torch.optim's equations, the lecture's variants, and learning-rate schedules."""
