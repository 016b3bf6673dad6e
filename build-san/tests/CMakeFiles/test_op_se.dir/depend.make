# Empty dependencies file for test_op_se.
# This may be replaced when dependencies are built.
