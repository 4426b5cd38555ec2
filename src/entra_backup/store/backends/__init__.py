"""Storage backends: where repository files live (local disk, S3, memory)."""
