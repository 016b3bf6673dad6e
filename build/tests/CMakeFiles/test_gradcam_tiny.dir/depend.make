# Empty dependencies file for test_gradcam_tiny.
# This may be replaced when dependencies are built.
