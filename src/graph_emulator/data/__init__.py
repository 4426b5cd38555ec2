"""Data files derived from Microsoft's published Graph schema."""
