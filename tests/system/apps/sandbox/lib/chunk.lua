return "chunk ran"
