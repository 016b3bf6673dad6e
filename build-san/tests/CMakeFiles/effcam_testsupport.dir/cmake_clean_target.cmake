file(REMOVE_RECURSE
  "libeffcam_testsupport.a"
)
