# Writes generated/eqflow/version.hpp with the current git revision (run at every build by
# the eqflow_version target; configure_file rewrites the header only when it changes, so
# outputs always carry the revision that built the binary without needless rebuilds).
# Inputs: SOURCE_DIR, BINARY_DIR, PROJECT_VERSION.
execute_process(COMMAND git rev-parse --short=12 HEAD
                WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE EQFLOW_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT EQFLOW_GIT_REVISION)
  set(EQFLOW_GIT_REVISION "unknown")
endif()
configure_file(${SOURCE_DIR}/cmake/version.hpp.in ${BINARY_DIR}/generated/eqflow/version.hpp @ONLY)
