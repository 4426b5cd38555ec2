"""OData query handling as the directory service does it."""
