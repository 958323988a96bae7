"""Speed: the cache store with every cache kind, and parallel work. Rules never import it."""
