# Empty dependencies file for effcam.
# This may be replaced when dependencies are built.
