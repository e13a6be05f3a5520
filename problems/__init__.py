"""Built-in problem folders. They are plug-ins read by path, not modules the core imports."""
