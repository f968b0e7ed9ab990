"""A simulation being watched: scripted events, the session that plays them, the live recorder, frame plans."""
