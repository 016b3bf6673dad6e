
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/lib/api.c" "CMakeFiles/effcam.dir/lib/api.c.o" "gcc" "CMakeFiles/effcam.dir/lib/api.c.o.d"
  "/work/main/lib/backward.c" "CMakeFiles/effcam.dir/lib/backward.c.o" "gcc" "CMakeFiles/effcam.dir/lib/backward.c.o.d"
  "/work/main/lib/cam/cam_combine.c" "CMakeFiles/effcam.dir/lib/cam/cam_combine.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/cam_combine.c.o.d"
  "/work/main/lib/cam/cam_post.c" "CMakeFiles/effcam.dir/lib/cam/cam_post.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/cam_post.c.o.d"
  "/work/main/lib/cam/eigencam.c" "CMakeFiles/effcam.dir/lib/cam/eigencam.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/eigencam.c.o.d"
  "/work/main/lib/cam/elementwise.c" "CMakeFiles/effcam.dir/lib/cam/elementwise.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/elementwise.c.o.d"
  "/work/main/lib/cam/gradcam.c" "CMakeFiles/effcam.dir/lib/cam/gradcam.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/gradcam.c.o.d"
  "/work/main/lib/cam/gradcampp.c" "CMakeFiles/effcam.dir/lib/cam/gradcampp.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/gradcampp.c.o.d"
  "/work/main/lib/cam/resize.c" "CMakeFiles/effcam.dir/lib/cam/resize.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/resize.c.o.d"
  "/work/main/lib/cam/scorecam.c" "CMakeFiles/effcam.dir/lib/cam/scorecam.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/scorecam.c.o.d"
  "/work/main/lib/cam/xgradcam.c" "CMakeFiles/effcam.dir/lib/cam/xgradcam.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam/xgradcam.c.o.d"
  "/work/main/lib/cam_api.c" "CMakeFiles/effcam.dir/lib/cam_api.c.o" "gcc" "CMakeFiles/effcam.dir/lib/cam_api.c.o.d"
  "/work/main/lib/ecw_read.c" "CMakeFiles/effcam.dir/lib/ecw_read.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ecw_read.c.o.d"
  "/work/main/lib/engine.c" "CMakeFiles/effcam.dir/lib/engine.c.o" "gcc" "CMakeFiles/effcam.dir/lib/engine.c.o.d"
  "/work/main/lib/graph.c" "CMakeFiles/effcam.dir/lib/graph.c.o" "gcc" "CMakeFiles/effcam.dir/lib/graph.c.o.d"
  "/work/main/lib/ops/act.c" "CMakeFiles/effcam.dir/lib/ops/act.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/act.c.o.d"
  "/work/main/lib/ops/add.c" "CMakeFiles/effcam.dir/lib/ops/add.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/add.c.o.d"
  "/work/main/lib/ops/conv2d.c" "CMakeFiles/effcam.dir/lib/ops/conv2d.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/conv2d.c.o.d"
  "/work/main/lib/ops/dwconv.c" "CMakeFiles/effcam.dir/lib/ops/dwconv.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/dwconv.c.o.d"
  "/work/main/lib/ops/f16.c" "CMakeFiles/effcam.dir/lib/ops/f16.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/f16.c.o.d"
  "/work/main/lib/ops/gap.c" "CMakeFiles/effcam.dir/lib/ops/gap.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/gap.c.o.d"
  "/work/main/lib/ops/pwconv.c" "CMakeFiles/effcam.dir/lib/ops/pwconv.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/pwconv.c.o.d"
  "/work/main/lib/ops/se.c" "CMakeFiles/effcam.dir/lib/ops/se.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/se.c.o.d"
  "/work/main/lib/ops/softmax.c" "CMakeFiles/effcam.dir/lib/ops/softmax.c.o" "gcc" "CMakeFiles/effcam.dir/lib/ops/softmax.c.o.d"
  "/work/main/lib/plan.c" "CMakeFiles/effcam.dir/lib/plan.c.o" "gcc" "CMakeFiles/effcam.dir/lib/plan.c.o.d"
  "/work/main/lib/status.c" "CMakeFiles/effcam.dir/lib/status.c.o" "gcc" "CMakeFiles/effcam.dir/lib/status.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
