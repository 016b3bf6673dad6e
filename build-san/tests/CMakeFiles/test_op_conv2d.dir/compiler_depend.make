# Empty compiler generated dependencies file for test_op_conv2d.
# This may be replaced when dependencies are built.
