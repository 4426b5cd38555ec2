"""Graph request handlers, one module per concern."""
