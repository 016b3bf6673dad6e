# Empty compiler generated dependencies file for effcam_testsupport.
# This may be replaced when dependencies are built.
