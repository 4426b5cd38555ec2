"""Key providers: what wraps and unwraps a repository master key."""
