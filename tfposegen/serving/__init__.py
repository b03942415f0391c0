"""The shopper web service's parts: uploads (limits, decoding, messages), the shopper
pipeline (BlazePose, parse, frame fitting, the exported SavedModel), the adapters of the
pose-transfer signatures it serves (ADGAN, DPTN_step, DPTN: ``models``), a bounded job
queue, the Flask app and its page, and procedural demo photos.
``run_scripts/shopper/websvc.py`` serves them with waitress."""
