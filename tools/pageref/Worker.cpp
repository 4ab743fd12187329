// `pageref worker JOB OUT`: analyses the one TU described by JOB (JSON) and
// writes its result to OUT. Started by `pageref scan` once per TU, so that a
// crash, a hang or a TU that does not parse costs only that TU.
#include "Worker.h"
#include "Frontend.h"

#include "pageref/Facts.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using nlohmann::json;

namespace pageref {

json jobJson(const CompileJob &J, const FrontendSettings &S) {
  return {{"directory", J.Directory},   {"file", J.File},
          {"arguments", J.Args},        {"checks", S.Checks},
          {"api_model_files", S.ApiModelFiles}, {"run_checks", S.RunChecks},
          {"skip_header_bodies", S.SkipHeaderBodies}};
}

int runWorker(int Argc, char **Argv) {
  if (Argc != 3) {
    llvm::errs() << "usage: pageref worker JOB.json OUT.json|- (started by pageref scan)\n";
    return 2;
  }
  auto Buf = llvm::MemoryBuffer::getFile(Argv[1]);
  if (!Buf) {
    llvm::errs() << "pageref worker: cannot read " << Argv[1] << ": " << Buf.getError().message() << "\n";
    return 2;
  }
  json Job = json::parse((*Buf)->getBuffer(), nullptr, /*allow_exceptions=*/false);
  if (!Job.is_object() || !Job.contains("file") || !Job.contains("arguments")) {
    llvm::errs() << "pageref worker: " << Argv[1] << " is not a job file\n";
    return 2;
  }
  CompileJob J;
  J.Directory = Job.value("directory", "");
  J.File = Job.value("file", "");
  J.Args = Job["arguments"].get<std::vector<std::string>>();
  FrontendSettings S;
  S.Checks = Job.value("checks", S.Checks);
  S.ApiModelFiles = Job.value("api_model_files", std::vector<std::string>{});
  S.RunChecks = Job.value("run_checks", true);
  S.SkipHeaderBodies = Job.value("skip_header_bodies", true);
  json Result = analyzeTranslationUnit(J, S);
  if (llvm::StringRef(Argv[2]) == "-") {
    llvm::outs() << Result.dump(1) << "\n";
    return 0;
  }
  std::string Err = writeJsonAtomically(Result, Argv[2]);
  if (!Err.empty()) {
    llvm::errs() << "pageref worker: " << Err << "\n";
    return 2;
  }
  return 0;
}

} // namespace pageref
