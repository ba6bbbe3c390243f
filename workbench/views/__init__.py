"""Panel / HoloViews apps. Imports everything above it; nothing imports the views."""
