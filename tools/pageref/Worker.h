#pragma once
#include "Frontend.h"

namespace pageref {
/// The job file `pageref scan` hands a worker.
nlohmann::json jobJson(const CompileJob &J, const FrontendSettings &S);
int runWorker(int Argc, char **Argv);
} // namespace pageref
