// What a run gave, for a reader or a script (src/app/describe.cpp): `eqflow summary` and the
// summary lines the pipeline prints at the end of every invocation.
#pragma once

#include <string>

#include "eqflow/io/run_files.hpp"

namespace eqflow::app {

//! What a scientist wants to know of a run's summary: complete seeds out of experiments and,
//! per seed, what each analysis gave next to the baselines (one line per seed).
std::string format_summary(const io::Summary& summary);

//! `eqflow summary FILE`: a run, summary or seed file described for a reader, or (json) as
//! one JSON object for scripts.
std::string describe_output(const std::string& path, bool json = false);

}  // namespace eqflow::app
