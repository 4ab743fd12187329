#include "Frontend.h"
#include "HeaderBodyFilter.h"

#include "pageref/ApiModel.h"
#include "pageref/Config.h"
#include "pageref/ScanCollector.h"

#include "ClangTidy.h"
#include "ClangTidyModule.h"
#include "ClangTidyDiagnosticConsumer.h"
#include "ClangTidyOptions.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Frontend/MultiplexConsumer.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/xxhash.h"

#include <functional>
#include <map>

using nlohmann::json;

namespace pageref {

void forEachFileField(json &J, const std::function<void(json &)> &F) {
  if (J.is_object()) {
    for (auto It = J.begin(); It != J.end(); ++It)
      if (It.key() == "file" && It->is_string())
        F(*It);
      else
        forEachFileField(*It, F);
  } else if (J.is_array()) {
    for (json &E : J)
      forEachFileField(E, F);
  }
}

std::string absolutePath(const std::string &Path, const std::string &Dir) {
  llvm::SmallString<256> P(Path);
  if (!llvm::sys::path::is_absolute(P)) {
    P = Dir;
    llvm::sys::path::append(P, Path);
  }
  llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

std::vector<std::string> adjustForClang(std::vector<std::string> &Args) {
  // Options GCC takes and clang rejects or does not know (the kernel passes
  // them in GCC builds); none changes what a parse sees. Options with a
  // separate value are listed in TakesValue.
  static const llvm::Regex GccOnly(
      "^-(fconserve-stack|fno-allow-store-data-races|fno-var-tracking-assignments|fno-ipa-sra|"
      "fno-ipa-cp-clone|fno-partial-inlining|fno-inline-functions-called-once|fno-tree-loop-im|"
      "fno-code-hoisting|fno-reorder-blocks|fno-toplevel-reorder|fno-shrink-wrap|fno-guess-branch-probability|"
      "fno-tree-switch-conversion|fno-jump-tables|fno-lifetime-dse|fno-aggressive-loop-optimizations|"
      "fmin-function-alignment=.*|fpatchable-function-entry-section=.*|fsched-pressure|fno-gcse|"
      "fno-dce|fno-dse|fno-tree-pre|fdiagnostics-show-caret|fno-diagnostics-show-caret|"
      "mrecord-mcount|mindirect-branch=.*|mindirect-branch-register|mindirect-branch-cs-prefix|"
      "mpreferred-stack-boundary=.*|mskip-rax-setup|maccumulate-outgoing-args|mno-fp-ret-in-387|"
      "mfentry|mnop-mcount|mharden-sls=.*|mabi=.*|mno-red-zone-.*|"
      "fsanitize-coverage=trace-pc|fplugin=.*|fplugin-arg-.*|fno-allow-store-data-races|"
      "falign-jumps=.*|fno-stack-clash-protection|fconserve-stack|ftrivial-auto-var-init=zero)$");
  std::vector<std::string> Removed, Out;
  for (size_t I = 0; I < Args.size(); ++I) {
    const std::string &A = Args[I];
    if (I > 0 && (A == "--param" || A == "-param") && I + 1 < Args.size()) {
      Removed.push_back(A + " " + Args[I + 1]);
      ++I;
      continue;
    }
    if (I > 0 && (GccOnly.match(A) || llvm::StringRef(A).starts_with("--param="))) {
      Removed.push_back(A);
      continue;
    }
    Out.push_back(A);
  }
  Args = std::move(Out);
  return Removed;
}

namespace {

/// A compilation database of one command.
class OneCommandDatabase : public clang::tooling::CompilationDatabase {
public:
  explicit OneCommandDatabase(clang::tooling::CompileCommand C) : Cmd(std::move(C)) {}
  std::vector<clang::tooling::CompileCommand> getCompileCommands(llvm::StringRef) const override { return {Cmd}; }
  std::vector<std::string> getAllFiles() const override { return {Cmd.Filename}; }

private:
  clang::tooling::CompileCommand Cmd;
};

json inputsOf(const clang::SourceManager &SM);

/// A function of the main file: where it starts and ends, to name the
/// function a diagnostic is in after the AST is gone.
struct FunctionRange {
  unsigned Begin, End;
  std::string Name;
};

/// What one parse needs and leaves behind, shared by the action factory, the
/// action and the consumer.
struct ParseState {
  ParseState(clang::tidy::ClangTidyASTConsumerFactory *Tidy, const FrontendSettings &Settings)
      : Tidy(Tidy), Settings(Settings) {}
  clang::tidy::ClangTidyASTConsumerFactory *Tidy; // null: parse only
  const FrontendSettings &Settings;
  std::unique_ptr<HeaderBodyFilter> Filter;
  std::vector<FunctionRange> Functions;
  json Inputs = json::array();
};

/// Forwards everything to clang-tidy's consumer and decides which function
/// bodies are parsed at all.
class SkippingConsumer : public clang::MultiplexConsumer {
public:
  SkippingConsumer(std::unique_ptr<clang::ASTConsumer> Inner, ParseState &State)
      : MultiplexConsumer(makeVec(std::move(Inner))), State(State) {}

  bool shouldSkipFunctionBody(clang::Decl *D) override { return State.Filter && State.Filter->skip(D); }

  void HandleTranslationUnit(clang::ASTContext &Ctx) override {
    const clang::SourceManager &SM = Ctx.getSourceManager();
    // Every pageref check matches in the main file only (each matcher says
    // isExpansionInMainFile, the engine indexes main-file declarations):
    // the matchers need not walk the thousands of header declarations.
    std::vector<clang::Decl *> Main;
    for (clang::Decl *D : Ctx.getTranslationUnitDecl()->decls())
      if (SM.isInMainFile(SM.getExpansionLoc(D->getLocation())))
        Main.push_back(D);
    Ctx.setTraversalScope(Main);
    MultiplexConsumer::HandleTranslationUnit(Ctx);
    State.Inputs = inputsOf(SM);
    for (const clang::Decl *D : Main) {
      auto *F = llvm::dyn_cast<clang::FunctionDecl>(D);
      if (!F || !F->doesThisDeclarationHaveABody())
        continue;
      clang::SourceLocation B = SM.getFileLoc(F->getBeginLoc()), E = SM.getFileLoc(F->getEndLoc());
      if (!SM.isWrittenInMainFile(B) || !SM.isWrittenInMainFile(E))
        continue;
      State.Functions.push_back({SM.getFileOffset(B), SM.getFileOffset(E) + 1, F->getNameAsString()});
    }
  }

private:
  static std::vector<std::unique_ptr<clang::ASTConsumer>> makeVec(std::unique_ptr<clang::ASTConsumer> C) {
    std::vector<std::unique_ptr<clang::ASTConsumer>> V;
    V.push_back(std::move(C));
    return V;
  }
  ParseState &State;
};

class ScanAction : public clang::ASTFrontendAction {
public:
  explicit ScanAction(ParseState &State) : State(State) {}

  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance &CI, llvm::StringRef File) override {
    std::unique_ptr<clang::ASTConsumer> Inner =
        State.Tidy ? State.Tidy->createASTConsumer(CI, File) : std::make_unique<clang::ASTConsumer>();
    if (State.Settings.SkipHeaderBodies)
      State.Filter = std::make_unique<HeaderBodyFilter>(CI.getSourceManager());
    return std::make_unique<SkippingConsumer>(std::move(Inner), State);
  }

private:
  ParseState &State;
};

class ScanActionFactory : public clang::tooling::FrontendActionFactory {
public:
  explicit ScanActionFactory(ParseState &State) : State(State) {}

  std::unique_ptr<clang::FrontendAction> create() override { return std::make_unique<ScanAction>(State); }

  bool runInvocation(std::shared_ptr<clang::CompilerInvocation> Invocation, clang::FileManager *Files,
                     std::shared_ptr<clang::PCHContainerOperations> PCH, clang::DiagnosticConsumer *Diags) override {
    // As clang-tidy does: __clang_analyzer__ is defined.
    Invocation->getPreprocessorOpts().SetUpStaticAnalyzer = true;
    Invocation->getFrontendOpts().SkipFunctionBodies = State.Settings.SkipHeaderBodies;
    return FrontendActionFactory::runInvocation(Invocation, Files, PCH, Diags);
  }

private:
  ParseState &State;
};

/// Line and column of byte offsets in files, read once each.
class LineTable {
public:
  std::pair<unsigned, unsigned> at(const std::string &Path, unsigned Offset) {
    auto It = Starts.find(Path);
    if (It == Starts.end()) {
      std::vector<unsigned> S{0};
      if (auto Buf = llvm::MemoryBuffer::getFile(Path)) {
        llvm::StringRef T = (*Buf)->getBuffer();
        for (size_t I = 0; I < T.size(); ++I)
          if (T[I] == '\n')
            S.push_back(I + 1);
      }
      It = Starts.emplace(Path, std::move(S)).first;
    }
    auto &S = It->second;
    auto L = std::upper_bound(S.begin(), S.end(), Offset) - 1;
    return {unsigned(L - S.begin()) + 1, Offset - *L + 1};
  }

private:
  std::map<std::string, std::vector<unsigned>> Starts;
};

json messageJson(const clang::tooling::DiagnosticMessage &M, const std::string &Dir, LineTable &Lines) {
  json J;
  std::string File = M.FilePath.empty() ? "" : absolutePath(M.FilePath, Dir);
  auto [L, C] = File.empty() ? std::pair<unsigned, unsigned>{0, 0} : Lines.at(File, M.FileOffset);
  J["file"] = File;
  J["line"] = L;
  J["column"] = C;
  J["message"] = M.Message;
  return J;
}

const char *levelName(clang::tooling::Diagnostic::Level L) {
  switch (L) {
  case clang::tooling::Diagnostic::Error: return "error";
  case clang::tooling::Diagnostic::Remark: return "remark";
  default: return "warning";
  }
}

/// Every file the parse read, with what identifies its content.
json inputsOf(const clang::SourceManager &SM) {
  std::map<std::string, json> Files;
  for (auto It = SM.fileinfo_begin(); It != SM.fileinfo_end(); ++It) {
    clang::FileEntryRef FE = It->first;
    llvm::StringRef Name = FE.getFileEntry().tryGetRealPathName();
    std::string Path = Name.empty() ? std::string(FE.getName()) : Name.str();
    json J = {{"path", Path}, {"size", FE.getSize()}};
    if (auto Buf = It->second->getBufferIfLoaded())
      J["hash"] = llvm::utohexstr(llvm::xxh3_64bits(Buf->getBuffer()), true, 16);
    Files[Path] = J;
  }
  json Out = json::array();
  for (auto &[P, J] : Files)
    Out.push_back(J);
  return Out;
}

} // namespace

json analyzeTranslationUnit(const CompileJob &Job, const FrontendSettings &S) {
  json Result = {{"schema", "pageref-tu"},
                 {"version", 1},
                 {"pageref_version", PAGEREF_VERSION},
                 {"file", Job.File},
                 {"directory", Job.Directory},
                 {"arguments", Job.Args}};
  // A bad user model file fails the TU with its own message (the checks
  // would only report a configuration error).
  ApiModel Model = ApiModel::builtin();
  for (const std::string &F : S.ApiModelFiles)
    if (auto Err = Model.mergeFile(F)) {
      Result["status"] = "failed";
      Result["error"] = *Err;
      return Result;
    }
  if (!llvm::sys::fs::exists(Job.File)) {
    Result["status"] = "failed";
    Result["error"] = "the source file does not exist";
    return Result;
  }
  std::vector<std::string> Args = Job.Args;
  json Removed = adjustForClang(Args);
  // Version skew between the kernel's expectations and clang 19 must not
  // turn a warning into a failed TU: -Werror (CONFIG_WERROR) is neutralised,
  // GCC's warning options are left in and ignored.
  Args.push_back("-Wno-unknown-warning-option");
  Args.push_back("-Wno-error");
  clang::tooling::CompileCommand Cmd(Job.Directory, Job.File, Args, "");

  clang::tidy::ClangTidyGlobalOptions Global;
  clang::tidy::ClangTidyOptions Defaults = clang::tidy::ClangTidyOptions::getDefaults();
  clang::tidy::ClangTidyOptions Override;
  Override.Checks = "-*," + S.Checks;
  if (!S.ApiModelFiles.empty())
    Override.CheckOptions["ApiModelFiles"] = clang::tidy::ClangTidyOptions::ClangTidyValue(
        llvm::join(S.ApiModelFiles, ";"));
  clang::tidy::ClangTidyContext Context(
      std::make_unique<clang::tidy::FileOptionsProvider>(Global, Defaults, Override), false);
  clang::tidy::ClangTidyDiagnosticConsumer DiagConsumer(Context, nullptr, true, false);
  auto DiagOpts = llvm::makeIntrusiveRefCnt<clang::DiagnosticOptions>();
  clang::DiagnosticsEngine DE(llvm::makeIntrusiveRefCnt<clang::DiagnosticIDs>(), DiagOpts.get(), &DiagConsumer,
                              false);
  Context.setDiagnosticsEngine(&DE);

  OneCommandDatabase DB(Cmd);
  clang::tooling::ClangTool Tool(DB, {Job.File});
  Tool.setDiagnosticConsumer(&DiagConsumer);
  // Clang's own headers (stddef.h, the intrinsics) as clang-tidy-19 finds
  // them: a LibTooling tool would look next to its own executable.
  if (llvm::none_of(Args, [](const std::string &A) { return llvm::StringRef(A).starts_with("-resource-dir"); }))
    Tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
        "-resource-dir=" PAGEREF_CLANG_RESOURCE_DIR, clang::tooling::ArgumentInsertPosition::BEGIN));
  // No driver chatter ("N warnings generated.") on the worker's stderr.
  Tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
      "-fno-color-diagnostics", clang::tooling::ArgumentInsertPosition::END));
  Tool.appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
      "-fno-caret-diagnostics", clang::tooling::ArgumentInsertPosition::END));

  ScanCollector Collector;
  std::unique_ptr<clang::tidy::ClangTidyASTConsumerFactory> TidyFactory;
  if (S.RunChecks)
    TidyFactory = std::make_unique<clang::tidy::ClangTidyASTConsumerFactory>(Context);
  ParseState State(TidyFactory.get(), S);
  ScanActionFactory Factory(State);
  activeScanCollector() = S.RunChecks ? &Collector : nullptr;
  int RC = Tool.run(&Factory);
  activeScanCollector() = nullptr;

  LineTable Lines;
  json Findings = json::array(), Errors = json::array();
  for (const clang::tidy::ClangTidyError &E : DiagConsumer.take()) {
    json J = messageJson(E.Message, Job.Directory, Lines);
    if (E.DiagnosticName == "clang-diagnostic-error" || E.DiagLevel == clang::tooling::Diagnostic::Error) {
      Errors.push_back(J);
      continue;
    }
    J["check"] = E.DiagnosticName;
    J["severity"] = levelName(E.DiagLevel);
    J["function"] = "";
    if (J["file"] == Job.File)
      for (const FunctionRange &F : State.Functions)
        if (F.Begin <= E.Message.FileOffset && E.Message.FileOffset < F.End)
          J["function"] = F.Name;
    json Notes = json::array();
    for (const auto &N : E.Notes)
      Notes.push_back(messageJson(N, Job.Directory, Lines));
    J["notes"] = Notes;
    json Fixes = json::array();
    for (const auto &[File, Reps] : E.Message.Fix)
      for (const clang::tooling::Replacement &R : Reps) {
        std::string Path = absolutePath(R.getFilePath().str(), Job.Directory);
        auto [L, C] = Lines.at(Path, R.getOffset());
        auto [EL, EC] = Lines.at(Path, R.getOffset() + R.getLength());
        Fixes.push_back({{"file", Path}, {"line", L}, {"column", C}, {"end_line", EL}, {"end_column", EC},
                         {"replacement", R.getReplacementText().str()}});
      }
    J["fixes"] = Fixes;
    Findings.push_back(J);
  }
  if (RC != 0 || !Errors.empty()) {
    Result["status"] = "failed";
    Result["error"] = Errors.empty() ? std::string("clang could not run on it")
                                     : Errors[0]["file"].get<std::string>() + ":" +
                                           std::to_string(Errors[0]["line"].get<unsigned>()) + ": " +
                                           Errors[0]["message"].get<std::string>();
    Result["errors"] = Errors;
    return Result;
  }
  // Every "file" the checks wrote, as an absolute path.
  auto Absolute = [&](json &J) {
    forEachFileField(J, [&](json &F) {
      if (!F.get_ref<const std::string &>().empty())
        F = absolutePath(F.get<std::string>(), Job.Directory);
    });
  };
  Absolute(Collector.CallSites);
  Absolute(Collector.Summaries);
  Absolute(Collector.Deferred);
  for (json &D : Collector.Deferred)
    for (json &V : D["variants"])
      for (json &F : V["findings"])
        F["function"] = D["function"];
  Result["status"] = "ok";
  Result["removed_flags"] = Removed;
  Result["findings"] = Findings;
  Result["call_sites"] = Collector.CallSites;
  Result["summaries"] = Collector.Summaries;
  Result["deferred"] = Collector.Deferred;
  Result["inputs"] = State.Inputs;
  if (State.Filter)
    Result["skipped_header_bodies"] = State.Filter->skipped();
  return Result;
}

} // namespace pageref
