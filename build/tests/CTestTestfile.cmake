# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_f16 "/work/main/build/tests/test_f16")
set_tests_properties(test_f16 PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_format "/work/main/build/tests/test_format")
set_tests_properties(test_format PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_gradcam_tiny "/work/main/build/tests/test_gradcam_tiny")
set_tests_properties(test_gradcam_tiny PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_memory "/work/main/build/tests/test_memory")
set_tests_properties(test_memory PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_model_tiny "/work/main/build/tests/test_model_tiny")
set_tests_properties(test_model_tiny PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_act "/work/main/build/tests/test_op_act")
set_tests_properties(test_op_act PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_conv2d "/work/main/build/tests/test_op_conv2d")
set_tests_properties(test_op_conv2d PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_dwconv "/work/main/build/tests/test_op_dwconv")
set_tests_properties(test_op_dwconv PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_misc "/work/main/build/tests/test_op_misc")
set_tests_properties(test_op_misc PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_pwconv "/work/main/build/tests/test_op_pwconv")
set_tests_properties(test_op_pwconv PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_op_se "/work/main/build/tests/test_op_se")
set_tests_properties(test_op_se PROPERTIES  ENVIRONMENT "EFFCAM_SOURCE_DIR=/work/main;EFFCAM_SHARED_DATA=/work/main/../shared/data;EFFCAM_REFS_DIR=/work/main/build/refs;EFFCAM_BUILD_DIR=/work/main/build" TIMEOUT "1800" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;19;add_test;/work/main/tests/CMakeLists.txt;0;")
