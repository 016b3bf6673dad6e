# Empty dependencies file for test_op_pwconv.
# This may be replaced when dependencies are built.
