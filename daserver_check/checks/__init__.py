"""Stage results -> findings. Pure functions; one module per stage."""
