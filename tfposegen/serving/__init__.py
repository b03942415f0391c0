"""The shopper web service's parts: uploads (limits, decoding, messages), the shopper
pipeline (BlazePose, parse, frame fitting, the exported SavedModel), a bounded job queue,
the Flask app and its page, and procedural demo photos. ``run_scripts/shopper/websvc.py``
serves them with waitress."""
