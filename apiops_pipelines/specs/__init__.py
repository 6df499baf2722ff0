"""Loading a spec: YAML/JSON documents with limits, $ref bundling, source maps, JSON pointers and positions."""
