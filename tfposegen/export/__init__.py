"""The shared edge of SavedModel export (``archive``): uint8 conversion, shape-checked
endpoints, versioned atomic writes. Each system's signatures live in
``tfposegen.models.<system>.export``."""
