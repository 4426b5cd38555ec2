"""The restore plan: what a restore will do, object by object, before it writes anything."""
