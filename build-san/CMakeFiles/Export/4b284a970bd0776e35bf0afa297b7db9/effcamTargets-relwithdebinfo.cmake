#----------------------------------------------------------------
# Generated CMake target import file for configuration "RelWithDebInfo".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "effcam::effcam" for configuration "RelWithDebInfo"
set_property(TARGET effcam::effcam APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(effcam::effcam PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELWITHDEBINFO "C"
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libeffcam.a"
  )

list(APPEND _cmake_import_check_targets effcam::effcam )
list(APPEND _cmake_import_check_files_for_effcam::effcam "${_IMPORT_PREFIX}/lib/libeffcam.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
