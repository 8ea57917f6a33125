"""Service desk: every channel becomes one ticket; portal, knowledge base, surveys, the 360° customer view."""
