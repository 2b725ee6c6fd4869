"""The opt-in demo publisher: a test pattern published to the relay from inside the cluster."""
