// The whole-tree driver. A scan is: select the TUs of a compile database
// that can matter (token prefilter), analyse each once in a worker process
// (or take its result from the cache), analyse the TUs that define the
// functions of other files the first ones hand pages to, then merge: resolve
// those calls with the merged summaries, fingerprint, sort, write.
#include "Scan.h"
#include "Frontend.h"
#include "Inventory.h"
#include "Report.h"
#include "Worker.h"

#include "pageref/ApiModel.h"
#include "pageref/Config.h"
#include "pageref/Facts.h"
#include "pageref/RefFlow.h"

#include "GlobList.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <csignal>
#include <thread>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

using nlohmann::json;

namespace pageref {
namespace {

constexpr int ScanSchemaVersion = 1;
const char *const AllChecks[] = {"pageref-get-pages-caller", "pageref-unbalanced-release",
                                 "pageref-release-mismatch", "pageref-async-bvec-drop"};

std::string currentDir() {
  llvm::SmallString<256> C;
  llvm::sys::fs::current_path(C);
  return std::string(C);
}

int fail(llvm::StringRef Cmd, const llvm::Twine &Msg) {
  llvm::errs() << "pageref " << Cmd << ": " << Msg << "\n";
  return 2;
}

std::string hexDigest(llvm::StringRef Data, unsigned Bytes) {
  auto H = llvm::SHA256::hash(llvm::arrayRefFromStringRef(Data));
  return llvm::toHex(llvm::ArrayRef<uint8_t>(H).take_front(Bytes), /*LowerCase=*/true);
}

std::optional<std::string> readFile(const std::string &Path, std::string &Err) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf) {
    Err = Path + ": " + Buf.getError().message();
    return std::nullopt;
  }
  return (*Buf)->getBuffer().str();
}

std::optional<json> readJson(const std::string &Path, std::string &Err) {
  auto Text = readFile(Path, Err);
  if (!Text)
    return std::nullopt;
  json J = json::parse(*Text, nullptr, /*allow_exceptions=*/false);
  if (J.is_discarded()) {
    Err = Path + ": not valid JSON";
    return std::nullopt;
  }
  return J;
}

/// Identifier tokens of a C file (outside comments and literals), and the
/// functions it defines (`name(...) {` at brace depth 0).
struct TokenScan {
  bool MentionsTracked = false;     // names one of the prefilter's functions
  std::set<std::string> Defines;
};

TokenScan scanTokens(llvm::StringRef T, const llvm::StringSet<> &Names) {
  TokenScan S;
  size_t I = 0, N = T.size();
  int Depth = 0;
  auto IsIdent = [](char C) { return llvm::isAlnum(C) || C == '_'; };
  while (I < N) {
    char C = T[I];
    if (C == '/' && I + 1 < N && T[I + 1] == '/') {
      I = T.find('\n', I);
      if (I == llvm::StringRef::npos)
        break;
    } else if (C == '/' && I + 1 < N && T[I + 1] == '*') {
      size_t E = T.find("*/", I + 2);
      I = E == llvm::StringRef::npos ? N : E + 2;
    } else if (C == '"' || C == '\'') {
      for (++I; I < N && T[I] != C && T[I] != '\n'; ++I)
        if (T[I] == '\\')
          ++I;
      ++I;
    } else if (llvm::isAlpha(C) || C == '_') {
      size_t B = I;
      while (I < N && IsIdent(T[I]))
        ++I;
      llvm::StringRef Id = T.slice(B, I);
      if (!S.MentionsTracked && Names.contains(Id))
        S.MentionsTracked = true;
      if (Depth == 0) {
        size_t J = I;
        while (J < N && llvm::isSpace(T[J]))
          ++J;
        if (J < N && T[J] == '(') {
          int P = 0;
          for (; J < N; ++J) {
            if (T[J] == '(')
              ++P;
            else if (T[J] == ')' && --P == 0)
              break;
          }
          ++J;
          while (J < N && llvm::isSpace(T[J]))
            ++J;
          if (J < N && T[J] == '{')
            S.Defines.insert(Id.str());
        }
      }
    } else {
      if (C == '{')
        ++Depth;
      else if (C == '}' && Depth > 0)
        --Depth;
      ++I;
    }
  }
  return S;
}

/// The names that make a TU matter to the enabled checks.
std::vector<std::string> prefilterNames(const ApiModel &Model, const clang::tidy::GlobList &Checks) {
  std::set<std::string> Names;
  auto AddGetPages = [&] {
    for (auto &E : Model.getPagesFns())
      Names.insert(E.first().str());
  };
  if (Checks.contains("pageref-get-pages-caller"))
    AddGetPages();
  if (Checks.contains("pageref-unbalanced-release") || Checks.contains("pageref-release-mismatch")) {
    AddGetPages();
    for (auto &E : Model.acquireFns())
      Names.insert(E.first().str());
  }
  if (Checks.contains("pageref-async-bvec-drop"))
    for (auto &E : Model.iterConstructors())
      if (E.second.Kinds.contains(IterKind::Bvec))
        Names.insert(E.first().str());
  return {Names.begin(), Names.end()};
}

/// The cache of per-TU results, keyed by everything that decides them.
class ResultCache {
public:
  /// \p Self: the pageref executable; its content is part of every key, so
  /// that a rebuilt pageref never reuses results of the old one.
  ResultCache(std::string Dir, bool Enabled, const std::string &Self) : Dir(std::move(Dir)), Enabled(Enabled) {
    if (Enabled)
      Binary = contentHash(Self);
  }

  std::string keyOf(const CompileJob &J, const FrontendSettings &S, const std::string &ModelDigest) const {
    std::string K = std::string(PAGEREF_VERSION) + '\0' + Binary + '\0' + ModelDigest + '\0' + S.Checks + '\0' +
                    (S.RunChecks ? "checks" : "parse") + '\0' + (S.SkipHeaderBodies ? "skip" : "full") + '\0' +
                    J.Directory + '\0' + J.File;
    for (const std::string &A : J.Args)
      K += '\0' + A;
    return hexDigest(K, 16);
  }

  /// The cached result, if every file it read still has the same content.
  /// The inputs sit in a plain list next to the result, so that a stale
  /// entry costs no JSON parse.
  std::optional<json> lookup(const std::string &Key) {
    if (!Enabled)
      return std::nullopt;
    auto Inputs = llvm::MemoryBuffer::getFile(path(Key) + ".inputs");
    if (!Inputs)
      return std::nullopt;
    llvm::SmallVector<llvm::StringRef, 0> Lines;
    (*Inputs)->getBuffer().split(Lines, '\n', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef L : Lines) {
      auto [Hash, Path] = L.split(' ');
      if (contentHash(Path.str()) != Hash)
        return std::nullopt;
    }
    std::string Err;
    auto J = readJson(path(Key) + ".json", Err);
    if (!J || !J->is_object() || J->value("status", "") != "ok")
      return std::nullopt;
    return J;
  }

  void store(const std::string &Key, json Result) {
    if (!Enabled || Result.value("status", "") != "ok" || !Result["inputs"].is_array())
      return;
    if (llvm::sys::fs::create_directories(Dir))
      return; // a cache that cannot be written only costs time
    std::string Inputs;
    for (const json &In : Result["inputs"]) {
      if (!In.contains("hash"))
        return; // a file the parse did not keep in memory: no entry
      Inputs += In["hash"].get<std::string>() + " " + In.value("path", "") + "\n";
    }
    Result.erase("inputs");
    if (writeJsonAtomically(Result, path(Key) + ".json").empty())
      writeTextAtomically(Inputs, path(Key) + ".inputs");
  }

  const std::string &dir() const { return Dir; }

private:
  std::string path(const std::string &Key) const { return Dir + "/" + Key; }
  /// xxh3 of a file's content, once per file and run ("" if unreadable).
  std::string contentHash(const std::string &Path) {
    std::lock_guard<std::mutex> L(M);
    auto It = Hashes.find(Path);
    if (It != Hashes.end())
      return It->second;
    std::string H;
    if (auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false, /*RequiresNullTerminator=*/false))
      H = llvm::utohexstr(llvm::xxh3_64bits((*Buf)->getBuffer()), true, 16);
    return Hashes[Path] = H;
  }

  std::string Dir;
  bool Enabled;
  std::string Binary;
  std::mutex M;
  std::map<std::string, std::string> Hashes;
};

std::string defaultCacheDir() {
  if (const char *E = std::getenv("PAGEREF_CACHE_DIR"); E && *E)
    return std::string(E) + "/scan";
  llvm::SmallString<256> Home;
  if (!llvm::sys::path::home_directory(Home))
    return "/tmp/pageref-cache/scan";
  llvm::sys::path::append(Home, ".cache", "pageref", "scan");
  return std::string(Home);
}

/// Progress on a terminal (counts, rate, ETA, one line redrawn), plain lines
/// otherwise.
class Progress {
public:
  Progress(size_t Total, llvm::StringRef Phase)
      : Total(Total), Phase(Phase.str()), Start(std::chrono::steady_clock::now()),
        Tty(llvm::sys::Process::StandardErrIsDisplayed()) {}

  void done(const std::string &File, llvm::StringRef Status) {
    std::lock_guard<std::mutex> L(M);
    ++Done;
    double Secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
    double Rate = Secs > 0 ? Done / Secs : 0;
    double Eta = Rate > 0 ? (Total - Done) / Rate : 0;
    if (Tty) {
      llvm::errs() << llvm::format("\r\x1b[K%s [%zu/%zu] %.1f TU/s, ETA %.0f s  %s %s", Phase.c_str(), Done,
                                   Total, Rate, Eta, Status.str().c_str(), llvm::sys::path::filename(File).str().c_str());
      if (Done == Total)
        llvm::errs() << "\n";
    } else {
      llvm::errs() << "pageref: " << Phase << " [" << Done << "/" << Total << "] " << Status << " " << File << "\n";
    }
  }

private:
  size_t Total, Done = 0;
  std::string Phase;
  std::chrono::steady_clock::time_point Start;
  bool Tty;
  std::mutex M;
};

struct ScanOptions {
  std::string Tree, BuildDir, Debian, OutDir = "pageref-out", Checks = "pageref-*", Baseline, CacheDir, DocsUri;
  std::vector<std::string> ApiModelFiles;
  std::vector<std::string> Formats = {"text", "json"};
  unsigned Jobs = 2, ShardK = 0, ShardN = 0, Timeout = 600;
  bool Prefilter = true, Cache = true, ParseOnly = false, Help = false, UnknownCalleesUse = false;
  bool FullParse = false; // header bodies parsed too: the reference the skipping is checked against
};

void scanUsage(llvm::raw_ostream &OS) {
  OS << "usage: pageref scan [KERNEL_TREE | --debian 6.1|6.12] [-p BUILD_DIR] [-j N] [-o OUT_DIR]\n"
        "                    [--checks GLOB] [--baseline FILE] [--shard K/N] [--format text,json,sarif,html]\n"
        "                    [--api-model FILE] [--timeout SECONDS] [--cache-dir DIR] [--no-prefilter] [--no-cache]\n"
        "\n"
        "Analyses every translation unit of the compile database that can matter to the checks, each once,\n"
        "in its own worker process; functions of other files are resolved with their summaries. Writes\n"
        "OUT_DIR/pageref.json (docs/scan-schema.md), prints the findings clang-tidy style.\n"
        "  KERNEL_TREE     a kernel tree with compile_commands.json (or -p BUILD_DIR holding it);\n"
        "                  without one the tree is prepared (tools/kernel/prepare-kernel.py)\n"
        "  (none)          Debian's linux-source-6.1, prepared and cached (same as --debian 6.1)\n"
        "  --shard K/N     the K-th of N parts; combine the parts with `pageref merge DIR...`\n"
        "  --baseline FILE known findings (`pageref baseline`); only others count as new\n"
        "  --unknown-callees hand-off|uses  what a function no analysed TU defines does with pages\n"
        "                  handed to it: keeps them (default, as clang-tidy) or only uses them (stricter)\n"
        "  --docs-uri URI  where pageref's docs/ are published, for the SARIF rules' helpUri\n"
        "  --full-parse    parse the bodies of header functions too (slower; the same results)\n"
        "  --cache-dir DIR per-TU result cache (default $PAGEREF_CACHE_DIR/scan or ~/.cache/pageref/scan;\n"
        "                  delete it to clear)\n"
        "Exit status: 0 nothing new, 1 new findings, 2 the run failed (a TU that did not parse, bad input).\n";
}

std::optional<std::string> parseScan(int Argc, char **Argv, ScanOptions &O) {
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    auto Value = [&]() -> std::optional<std::string> {
      if (I + 1 >= Argc)
        return std::nullopt;
      return std::string(Argv[++I]);
    };
    auto Need = [&](std::string &Into) -> std::optional<std::string> {
      auto V = Value();
      if (!V)
        return ("option " + A + " needs a value").str();
      Into = *V;
      return std::nullopt;
    };
    std::string V;
    if (A == "-h" || A == "--help") {
      O.Help = true;
    } else if (A == "--no-prefilter") {
      O.Prefilter = false;
    } else if (A == "--no-cache") {
      O.Cache = false;
    } else if (A == "--unknown-callees") {
      if (auto E = Need(V))
        return E;
      if (V != "hand-off" && V != "uses")
        return "--unknown-callees takes hand-off or uses, got '" + V + "'";
      O.UnknownCalleesUse = V == "uses";
    } else if (A == "--full-parse") {
      O.FullParse = true;
    } else if (A == "--parse-only") {
      O.ParseOnly = true; // the benchmark's parse floor: the same front end, no checks
    } else if (A.starts_with("-j") && A.size() > 2) {
      if (!llvm::to_integer(A.drop_front(2), O.Jobs) || O.Jobs == 0)
        return ("-j needs a positive number, got '" + A.drop_front(2) + "'").str();
    } else if (A == "-j" || A == "--timeout") {
      if (auto E = Need(V))
        return E;
      unsigned &Into = A == "-j" ? O.Jobs : O.Timeout;
      if (!llvm::to_integer(V, Into) || Into == 0)
        return (A + " needs a positive number, got '" + V + "'").str();
    } else if (A == "-p") {
      if (auto E = Need(O.BuildDir))
        return E;
    } else if (A == "--debian") {
      if (auto E = Need(O.Debian))
        return E;
    } else if (A == "-o") {
      if (auto E = Need(O.OutDir))
        return E;
    } else if (A == "--checks") {
      if (auto E = Need(O.Checks))
        return E;
    } else if (A == "--baseline") {
      if (auto E = Need(O.Baseline))
        return E;
    } else if (A == "--cache-dir") {
      if (auto E = Need(O.CacheDir))
        return E;
    } else if (A == "--docs-uri") {
      if (auto E = Need(O.DocsUri))
        return E;
    } else if (A == "--api-model") {
      if (auto E = Need(V))
        return E;
      O.ApiModelFiles.push_back(absolutePath(V, currentDir()));
    } else if (A == "--format") {
      if (auto E = Need(V))
        return E;
      O.Formats.clear();
      for (llvm::StringRef F : llvm::split(V, ','))
        O.Formats.push_back(F.trim().str());
    } else if (A == "--shard") {
      if (auto E = Need(V))
        return E;
      auto [K, N] = llvm::StringRef(V).split('/');
      if (!llvm::to_integer(K, O.ShardK) || !llvm::to_integer(N, O.ShardN) || O.ShardN == 0 || O.ShardK == 0 ||
          O.ShardK > O.ShardN)
        return "--shard needs K/N with 1 <= K <= N, got '" + V + "'";
    } else if (!A.starts_with("-") && O.Tree.empty()) {
      O.Tree = A.str();
    } else {
      return ("unknown argument '" + A + "'").str();
    }
  }
  for (const std::string &F : O.Formats)
    if (F != "text" && F != "json" && F != "sarif" && F != "html")
      return "unknown --format '" + F + "' (text, json, sarif, html)";
  if (!O.Debian.empty() && !O.Tree.empty())
    return std::string("give a KERNEL_TREE or --debian, not both");
  return std::nullopt;
}

bool looksLikeKernel(const std::string &Tree) {
  for (const char *P : {"Makefile", "Kbuild", "include/linux/kernel.h", "scripts/Makefile.build"})
    if (!llvm::sys::fs::exists(Tree + "/" + P))
      return false;
  return true;
}

/// A file name for a TU's result inside OUT_DIR/tu.
std::string resultName(const std::string &File, const std::string &Tree) {
  llvm::StringRef Rel = File;
  if (!Tree.empty() && Rel.consume_front(Tree + "/")) {
  } else {
    Rel = llvm::sys::path::filename(File);
  }
  std::string N = Rel.str();
  std::replace(N.begin(), N.end(), '/', '_');
  return N + "." + hexDigest(File, 4) + ".json";
}

/// Runs a worker and waits at most \p Timeout seconds. ExecuteAndWait's own
/// time-out relies on SIGALRM, which in a process with a thread pool may go
/// to another thread and never interrupt the wait: poll instead.
int runWithTimeout(llvm::StringRef Program, llvm::ArrayRef<llvm::StringRef> Args,
                   llvm::ArrayRef<std::optional<llvm::StringRef>> Redirects, unsigned Timeout, std::string &Err,
                   bool &Failed) {
  llvm::sys::ProcessInfo PI = llvm::sys::ExecuteNoWait(Program, Args, std::nullopt, Redirects, 0, &Err, &Failed);
  if (Failed || PI.Pid == llvm::sys::ProcessInfo::InvalidPid)
    return -1;
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(Timeout);
  for (auto Sleep = std::chrono::milliseconds(2);; Sleep = std::min(Sleep * 2, std::chrono::milliseconds(50))) {
    llvm::sys::ProcessInfo R = llvm::sys::Wait(PI, /*SecondsToWait=*/0, &Err);
    if (R.Pid != 0)
      return R.ReturnCode;
    if (std::chrono::steady_clock::now() >= Deadline) {
      ::kill(PI.Pid, SIGKILL);
      llvm::sys::Wait(PI, std::nullopt, nullptr);
      Err = "timed out";
      return -2;
    }
    std::this_thread::sleep_for(Sleep);
  }
}

struct RunContext {
  std::string Self, Tree, TuDir, WorkDir, ModelDigest;
  FrontendSettings Settings;
  unsigned Jobs, Timeout;
  ResultCache *Cache;
};

/// Analyses \p Jobs (cache first, then workers) and returns their results.
std::vector<json> analyseAll(const std::vector<CompileJob> &Jobs, const RunContext &C, llvm::StringRef Phase,
                             llvm::StringRef SelectedBy) {
  std::vector<json> Results(Jobs.size());
  if (Jobs.empty())
    return Results;
  Progress P(Jobs.size(), Phase);
  llvm::DefaultThreadPool Pool(llvm::hardware_concurrency(C.Jobs));
  for (size_t I = 0; I < Jobs.size(); ++I)
    Pool.async([&, I] {
      const CompileJob &J = Jobs[I];
      std::string Key = C.Cache->keyOf(J, C.Settings, C.ModelDigest);
      std::string Name = resultName(J.File, C.Tree);
      std::string Out = C.TuDir + "/" + Name;
      json R;
      llvm::StringRef Status;
      if (auto Hit = C.Cache->lookup(Key)) {
        R = std::move(*Hit);
        Status = "cached";
      } else {
        std::string JobFile = C.WorkDir + "/" + Name + ".job";
        std::string Log = C.WorkDir + "/" + Name + ".log";
        std::string Err = writeJsonAtomically(jobJson(J, C.Settings), JobFile);
        std::string Tmp = Out + ".worker";
        llvm::sys::fs::remove(Tmp);
        bool Failed = false;
        int RC = -1;
        if (Err.empty()) {
          llvm::SmallVector<llvm::StringRef, 4> Args = {C.Self, "worker", JobFile, Tmp};
          std::optional<llvm::StringRef> Redirects[] = {llvm::StringRef(""), llvm::StringRef(Log),
                                                        llvm::StringRef(Log)};
          RC = runWithTimeout(C.Self, Args, Redirects, C.Timeout, Err, Failed);
        }
        std::string ReadErr;
        std::optional<json> Got = RC == 0 ? readJson(Tmp, ReadErr) : std::nullopt;
        llvm::sys::fs::remove(Tmp);
        if (Got && Got->is_object() && Got->contains("status")) {
          R = std::move(*Got);
        } else {
          R = {{"schema", "pageref-tu"}, {"version", 1}, {"file", J.File}, {"directory", J.Directory},
               {"arguments", J.Args}, {"status", "failed"}};
          if (Failed)
            R["error"] = "could not start the worker: " + Err;
          else if (Err.find("timed out") != std::string::npos || Err.find("Timed out") != std::string::npos)
            R["error"] = "timed out after " + std::to_string(C.Timeout) + " s";
          else if (RC == -2)
            R["error"] = "the worker crashed (" + (Err.empty() ? std::string("killed") : Err) + ")";
          else
            R["error"] = "the worker exited with status " + std::to_string(RC) + (Err.empty() ? "" : ": " + Err);
        }
        if (R.value("status", "") == "failed")
          R["reproducer"] = shellQuote(C.Self) + " worker " + shellQuote(JobFile) + " -  # log: " + Log;
        else
          C.Cache->store(Key, R);
        Status = R.value("status", "") == "ok" ? "ok" : "FAILED";
      }
      R["selected_by"] = SelectedBy.str();
      R.erase("inputs"); // the cache's business, not the merge's
      writeJsonAtomically(R, Out);
      P.done(J.File, Status);
      Results[I] = std::move(R);
    });
  Pool.wait();
  return Results;
}

std::string sourceLine(const std::string &Path, unsigned Line) {
  std::string Err;
  auto T = readFile(Path, Err);
  if (!T)
    return "";
  llvm::SmallVector<llvm::StringRef, 0> Lines;
  llvm::StringRef(*T).split(Lines, '\n');
  if (Line == 0 || Line > Lines.size())
    return "";
  std::string S;
  for (char C : Lines[Line - 1])
    if (!llvm::isSpace(C))
      S += C;
  return S;
}

/// \p Path relative to \p Tree when it is inside it.
std::string relativeTo(const std::string &Tree, const std::string &Path) {
  llvm::StringRef P = Path;
  if (!Tree.empty() && P.consume_front(Tree + "/"))
    return P.str();
  return Path;
}

void replaceAll(std::string &Text, const std::string &Marker, const std::string &By) {
  for (size_t Pos; (Pos = Text.find(Marker)) != std::string::npos;)
    Text.replace(Pos, Marker.size(), By);
}

/// A function other files call, as its merged summary resolves the calls.
struct Callee {
  ParamEffect Effect;
  std::string Assume;  // the variants' name of the effect
  std::string File;    // where it is defined
  std::string Release; // "put_page() at line 22 in net/9p/trans_common.c", for Releases
};

bool findingLess(const json &A, const json &B) {
  auto K = [](const json &F) {
    return std::make_tuple(F.value("file", ""), F.value("line", 0u), F.value("column", 0u), F.value("check", ""),
                           F.value("message", ""));
  };
  return K(A) < K(B);
}

} // namespace

json mergeTuResults(std::vector<json> TUs, const std::string &Tree, const std::string &Checks,
                    const std::string &ApiModelDigest, bool UnknownCalleesUse) {
  // One result per file: a successful one over a failed one, a TU selected
  // for itself over one analysed for its summaries.
  std::map<std::string, json> ByFile;
  for (json &R : TUs) {
    std::string F = R.value("file", "");
    auto It = ByFile.find(F);
    auto Rank = [](const json &X) {
      return (X.value("status", "") == "ok" ? 2 : 0) + (X.value("selected_by", "") == "summary" ? 0 : 1);
    };
    if (It == ByFile.end() || Rank(R) > Rank(It->second))
      ByFile[F] = std::move(R);
  }
  // Summaries of functions other files can call; a name defined differently
  // in two files (two configurations of one driver) is left unresolved.
  std::map<std::string, json> Summaries;
  std::set<std::string> Ambiguous;
  for (auto &[F, R] : ByFile)
    if (R.value("status", "") == "ok")
      for (const json &S : R.value("summaries", json::array())) {
        std::string Name = S.value("function", "");
        auto It = Summaries.find(Name);
        if (It != Summaries.end() && It->second["params"] != S["params"])
          Ambiguous.insert(Name);
        else
          Summaries[Name] = S;
      }
  for (const std::string &N : Ambiguous)
    Summaries.erase(N);
  std::map<std::string, Callee> Callees;
  for (auto &[Name, J] : Summaries) {
    std::string Why;
    std::optional<FunctionSummary> S = summaryFromJson(J, Why);
    std::optional<ParamEffect> E = S ? callEffect(*S) : std::nullopt;
    if (!E)
      continue;
    Callee &C = Callees[Name];
    C.Effect = *E;
    C.Assume = assumptionName(*E);
    C.File = J.value("file", "");
    C.Release = E->Via + " in " + relativeTo(Tree, C.File);
  }

  auto Relative = [&](json &V) { V = relativeTo(Tree, V.get<std::string>()); };

  json Units = json::array(), CallSites = json::array(), Findings = json::array(), SummaryList = json::array();
  for (auto &[F, R] : ByFile) {
    json U = {{"file", F}, {"status", R.value("status", "failed")}, {"selected_by", R.value("selected_by", "")}};
    if (U["status"] == "failed") {
      U["error"] = R.value("error", "failed");
      U["reproducer"] = R.value("reproducer", "");
    }
    U["removed_flags"] = R.value("removed_flags", json::array());
    Units.push_back(U);
    if (R.value("status", "") != "ok")
      continue;
    // Call sites whose verdict hung on a function of another file: the
    // variant that function's summary selects.
    for (json C : R.value("call_sites", json::array())) {
      for (const json &D : R.value("deferred", json::array())) {
        if (D.value("kind", "") != "call-site" || D["line"] != C["line"] || D["column"] != C["column"] ||
            D["file"] != C["file"])
          continue;
        std::string Name = D["externals"][0];
        auto It = Callees.find(Name);
        if (It == Callees.end() || It->second.Assume != D["assume"][Name])
          continue;
        const std::string &Via = It->second.Effect.Via;
        std::string Text = D["call_site"].dump();
        replaceAll(Text, "{{release:" + Name + "}}", Via.substr(0, Via.find("()")));
        replaceAll(Text, "{{file:" + Name + "}}", relativeTo(Tree, It->second.File));
        C = json::parse(Text);
        C["cross_tu"] = json::array({{{"function", Name}, {"file", It->second.File}, {"effect", It->second.Assume}}});
        break;
      }
      CallSites.push_back(C);
    }
    // The findings of this TU, with those that depend on other files
    // replaced by the variant their summaries select.
    std::map<std::pair<std::string, std::string>, json> Replaced; // (check, function) -> findings
    std::map<std::pair<std::string, std::string>, json> CrossTu;
    for (const json &D : R.value("deferred", json::array())) {
      if (D.value("kind", "") == "call-site")
        continue;
      json Assume = json::object(), Used = json::array();
      bool AllHandOff = true;
      for (const json &N : D["externals"]) {
        std::string Name = N.get<std::string>();
        auto It = Callees.find(Name);
        // A function no analysed TU defines: a hand-off, unless asked to
        // assume it only uses the pages (--unknown-callees uses).
        std::string E = It != Callees.end() ? It->second.Assume : UnknownCalleesUse ? "uses" : "takes-over";
        Assume[Name] = E;
        if (E != "takes-over") {
          AllHandOff = false;
          Used.push_back({{"function", Name},
                          {"file", It != Callees.end() ? It->second.File : std::string()},
                          {"effect", It != Callees.end() ? E : "unknown, assumed " + E}});
        }
      }
      if (AllHandOff)
        continue;
      auto Key = std::make_pair(D.value("check", ""), D.value("function", ""));
      CrossTu[Key] = Used;
      for (const json &V : D["variants"])
        if (V["assume"] == Assume) {
          json Fs = V["findings"];
          for (json &Fd : Fs) {
            std::string Msg = Fd["message"];
            for (const json &U2 : Used)
              if (auto It = Callees.find(U2["function"]); It != Callees.end())
                replaceAll(Msg, "{{via:" + It->first + "}}", It->second.Release);
            Fd["message"] = Msg;
          }
          Replaced[Key] = Fs;
        }
    }
    for (const json &Fd : R.value("findings", json::array())) {
      if (Fd.value("check", "") == "pageref-get-pages-caller")
        continue;
      if (Replaced.count({Fd.value("check", ""), Fd.value("function", "")}))
        continue;
      Findings.push_back(Fd);
    }
    for (auto &[Key, Fs] : Replaced)
      for (json Fd : Fs) {
        Fd["cross_tu"] = CrossTu[Key];
        Findings.push_back(Fd);
      }
  }
  for (auto &[Name, S] : Summaries)
    SummaryList.push_back(S);

  // Fingerprints: stable across line shifts and unrelated edits of the
  // function (no line numbers, the text of the flagged line itself).
  std::sort(Findings.begin(), Findings.end(), findingLess);
  std::map<std::string, unsigned> Seen;
  for (json &Fd : Findings) {
    std::string Msg = Fd.value("message", "");
    std::string NoLines;
    for (size_t I = 0; I < Msg.size(); ++I) {
      if (llvm::isDigit(Msg[I]) && (I == 0 || !llvm::isAlpha(Msg[I - 1]))) {
        while (I + 1 < Msg.size() && llvm::isDigit(Msg[I + 1]))
          ++I;
        NoLines += '#';
      } else {
        NoLines += Msg[I];
      }
    }
    std::string File = Fd.value("file", "");
    std::string Rel = relativeTo(Tree, File);
    std::string FP = hexDigest(Fd.value("check", "") + '\0' + Rel + '\0' + Fd.value("function", "") + '\0' + NoLines +
                                   '\0' + sourceLine(File, Fd.value("line", 0u)),
                               8);
    unsigned N = ++Seen[FP];
    Fd["fingerprint"] = N == 1 ? FP : FP + "-" + std::to_string(N);
  }
  forEachFileField(Units, Relative);
  forEachFileField(CallSites, Relative);
  forEachFileField(Findings, Relative);
  forEachFileField(SummaryList, Relative);
  std::sort(Findings.begin(), Findings.end(), findingLess);
  std::sort(CallSites.begin(), CallSites.end(), [](const json &A, const json &B) {
    return std::make_tuple(A.value("file", ""), A.value("line", 0), A.value("column", 0)) <
           std::make_tuple(B.value("file", ""), B.value("line", 0), B.value("column", 0));
  });
  return {{"schema", "pageref-scan"},
          {"version", ScanSchemaVersion},
          {"pageref_version", PAGEREF_VERSION},
          {"api_model", ApiModelDigest},
          {"checks", Checks},
          {"tree", Tree},
          {"translation_units", Units},
          {"call_sites", CallSites},
          {"findings", Findings},
          {"summaries", SummaryList}};
}

namespace {

/// Reads a baseline file; the error names the file.
std::optional<std::set<std::string>> readBaseline(const std::string &Path, std::string &Err) {
  auto J = readJson(Path, Err);
  if (!J)
    return std::nullopt;
  if (!J->is_object() || J->value("schema", "") != "pageref-baseline") {
    Err = Path + ": not a pageref baseline (no \"schema\": \"pageref-baseline\")";
    return std::nullopt;
  }
  if (J->value("version", 0) != 1) {
    Err = Path + ": baseline version " + (*J)["version"].dump() + " is not one this pageref reads (1)";
    return std::nullopt;
  }
  if (!(*J)["fingerprints"].is_array()) {
    Err = Path + ": \"fingerprints\" is not a list";
    return std::nullopt;
  }
  std::set<std::string> S;
  for (const json &F : (*J)["fingerprints"])
    if (F.is_string())
      S.insert(F.get<std::string>());
  return S;
}

/// Marks findings new/known; returns the number of new warnings.
unsigned applyBaseline(json &Scan, const std::set<std::string> *Known) {
  unsigned New = 0;
  for (json &F : Scan["findings"]) {
    bool IsKnown = Known && Known->count(F.value("fingerprint", ""));
    if (Known)
      F["baseline"] = IsKnown ? "known" : "new";
    if (!IsKnown && F.value("severity", "") == "warning")
      ++New;
  }
  return New;
}

/// Writes the outputs of a scan or merge and returns the exit status.
int finish(llvm::StringRef Cmd, json &Scan, const std::string &OutDir, const std::vector<std::string> &Formats,
           const std::string &BaselinePath, const std::string &DocsUri) {
  std::string Err;
  std::optional<std::set<std::string>> Known;
  json BaselineDoc;
  if (!BaselinePath.empty()) {
    Known = readBaseline(BaselinePath, Err);
    if (!Known)
      return fail(Cmd, Err);
    BaselineDoc = *readJson(BaselinePath, Err);
  }
  unsigned New = applyBaseline(Scan, Known ? &*Known : nullptr);
  Err = writeReports(Scan, Formats, OutDir, Known ? &BaselineDoc : nullptr, DocsUri);
  if (!Err.empty())
    return fail(Cmd, Err);
  unsigned Failed = 0;
  for (const json &U : Scan["translation_units"])
    if (U.value("status", "") != "ok") {
      ++Failed;
      llvm::errs() << "pageref " << Cmd << ": " << U.value("file", "") << ": " << U.value("error", "failed")
                   << "\n    reproduce: " << U.value("reproducer", "") << "\n";
    }
  // The text report is also what the run prints, as clang-tidy would.
  if (llvm::is_contained(Formats, "text"))
    if (auto T = readFile(OutDir + "/pageref.txt", Err))
      llvm::outs() << *T;
  llvm::errs() << "pageref " << Cmd << ": " << Scan["translation_units"].size() << " translation units ("
               << Failed << " failed), " << Scan["call_sites"].size() << " get-pages call sites, "
               << Scan["findings"].size() << " findings" << (Known ? " (" + std::to_string(New) + " new)" : "")
               << "; " << OutDir << "/pageref.json\n";
  if (Failed)
    return 2;
  return New ? 1 : 0;
}

std::string modelDigest(const std::vector<std::string> &Files, std::string &Err) {
  ApiModel M = ApiModel::builtin();
  for (const std::string &F : Files)
    if (auto E = M.mergeFile(F)) {
      Err = *E;
      return "";
    }
  return M.digest();
}

} // namespace

int runScan(int Argc, char **Argv, const std::string &Self) {
  ScanOptions O;
  if (auto Err = parseScan(Argc, Argv, O)) {
    scanUsage(llvm::errs());
    return fail("scan", *Err);
  }
  if (O.Help) {
    scanUsage(llvm::outs());
    return 0;
  }
  std::string Err;
  ApiModel Model = ApiModel::builtin();
  for (const std::string &F : O.ApiModelFiles)
    if (auto E = Model.mergeFile(F))
      return fail("scan", *E);
  std::string Digest = Model.digest();

  // The tree and its compile database.
  std::string Tree = O.Tree, DbDir = O.BuildDir;
  if (Tree.empty() && DbDir.empty() && O.Debian.empty())
    O.Debian = "6.1";
  if (!O.Debian.empty()) {
    auto T = prepareDebian(O.Debian, Err);
    if (!T)
      return fail("scan", Err);
    Tree = *T;
  }
  if (!Tree.empty()) {
    Tree = absolutePath(Tree, currentDir());
    if (!llvm::sys::fs::is_directory(Tree))
      return fail("scan", Tree + ": no such directory");
    if (!looksLikeKernel(Tree))
      return fail("scan", Tree + ": not a kernel tree (no Makefile, Kbuild, include/linux/kernel.h and "
                                 "scripts/Makefile.build)");
  }
  if (DbDir.empty())
    DbDir = Tree;
  if (!Tree.empty() && O.BuildDir.empty() && !llvm::sys::fs::exists(Tree + "/compile_commands.json")) {
    // A kernel tree without a database: prepare it the way the tests do.
    llvm::errs() << "pageref scan: " << Tree << " has no compile_commands.json; preparing it "
                 << "(tools/kernel/prepare-kernel.py --tree)\n";
    if (!prepareKernel("--tree", Tree, Err))
      return fail("scan", Err);
  }
  std::string DbPath = DbDir + "/compile_commands.json";
  if (!llvm::sys::fs::exists(DbPath))
    return fail("scan", DbPath + ": no compile database (make compile_commands.json, or -p BUILD_DIR)");
  std::string DbErr;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(
      DbPath, DbErr, clang::tooling::JSONCommandLineSyntax::AutoDetect);
  if (!DB)
    return fail("scan", DbPath + ": not a usable compile database: " + DbErr);
  if (Tree.empty())
    Tree = absolutePath(DbDir, currentDir());

  // One job per source file, in the database's order.
  std::vector<CompileJob> All;
  std::set<std::string> Seen;
  for (const clang::tooling::CompileCommand &C : DB->getAllCompileCommands()) {
    CompileJob J{C.Directory, absolutePath(C.Filename, C.Directory), C.CommandLine};
    if (J.Args.empty() || !Seen.insert(J.File).second)
      continue;
    All.push_back(std::move(J));
  }
  if (All.empty())
    return fail("scan", DbPath + ": the compile database has no entries");

  // Output directory: writable, per-TU results replaced.
  std::string OutDir = absolutePath(O.OutDir, currentDir());
  std::string TuDir = OutDir + "/tu", WorkDir = OutDir + "/work";
  for (const std::string &D : {OutDir, TuDir, WorkDir})
    if (auto EC = llvm::sys::fs::create_directories(D))
      return fail("scan", D + ": cannot create the output directory: " + EC.message());
  {
    std::string Probe = OutDir + "/.pageref-write-test";
    std::error_code EC;
    llvm::raw_fd_ostream OS(Probe, EC);
    if (EC)
      return fail("scan", OutDir + ": the output directory is not writable: " + EC.message());
    llvm::sys::fs::remove(Probe);
  }
  // Results and worker files of an earlier run in OUT_DIR are replaced, so
  // that `pageref merge OUT_DIR` sees this run only.
  for (const std::string &D : {TuDir, WorkDir}) {
    std::error_code EC;
    for (llvm::sys::fs::directory_iterator It(D, EC), End; It != End && !EC; It.increment(EC))
      llvm::sys::fs::remove(It->path());
  }

  clang::tidy::GlobList Checks("-*," + O.Checks);
  if (llvm::none_of(AllChecks, [&](const char *C) { return Checks.contains(C); }))
    return fail("scan", "--checks '" + O.Checks + "' enables no pageref check (" +
                            llvm::join(llvm::ArrayRef<const char *>(AllChecks).begin(),
                                       llvm::ArrayRef<const char *>(AllChecks).end(), ", ") +
                            ")");

  // Phase 1: the TUs that name a tracked function (all of them with
  // --no-prefilter), this shard's part of them.
  std::vector<std::string> Names = prefilterNames(Model, Checks);
  llvm::StringSet<> NameSet;
  for (const std::string &N : Names)
    NameSet.insert(N);
  std::vector<TokenScan> Tokens(All.size());
  std::vector<bool> Readable(All.size(), true);
  {
    llvm::DefaultThreadPool Pool(llvm::hardware_concurrency(O.Jobs));
    for (size_t I = 0; I < All.size(); ++I)
      Pool.async([&, I] {
        auto Buf = llvm::MemoryBuffer::getFile(All[I].File);
        if (!Buf) {
          Readable[I] = false;
          return;
        }
        Tokens[I] = scanTokens((*Buf)->getBuffer(), NameSet);
      });
    Pool.wait();
  }
  std::vector<size_t> Phase1;
  std::set<size_t> InPhase1Anywhere;
  for (size_t I = 0; I < All.size(); ++I) {
    bool Selected = !O.Prefilter || !Readable[I] || Tokens[I].MentionsTracked;
    if (!Selected)
      continue;
    InPhase1Anywhere.insert(I);
    if (O.ShardN && I % O.ShardN != O.ShardK - 1)
      continue;
    Phase1.push_back(I);
  }
  llvm::errs() << "pageref scan: " << All.size() << " translation units in " << DbPath << "; "
               << Phase1.size() << " selected" << (O.Prefilter ? " by the prefilter" : "")
               << (O.ShardN ? " for shard " + std::to_string(O.ShardK) + "/" + std::to_string(O.ShardN) : "")
               << "\n";

  ResultCache Cache(O.CacheDir.empty() ? defaultCacheDir() : O.CacheDir, O.Cache, Self);
  RunContext Ctx;
  Ctx.Self = Self;
  Ctx.Tree = Tree;
  Ctx.TuDir = TuDir;
  Ctx.WorkDir = WorkDir;
  Ctx.ModelDigest = Digest;
  Ctx.Settings.Checks = O.Checks;
  Ctx.Settings.ApiModelFiles = O.ApiModelFiles;
  Ctx.Settings.RunChecks = !O.ParseOnly;
  Ctx.Settings.SkipHeaderBodies = !O.FullParse;
  Ctx.Jobs = O.Jobs;
  Ctx.Timeout = O.Timeout;
  Ctx.Cache = &Cache;

  auto JobsOf = [&](const std::vector<size_t> &Idx) {
    std::vector<CompileJob> V;
    for (size_t I : Idx)
      V.push_back(All[I]);
    return V;
  };
  std::vector<json> Results = analyseAll(JobsOf(Phase1), Ctx, "analysing", O.Prefilter ? "prefilter" : "all");

  // Phase 2: the TUs that define the functions of other files these hand
  // pages to, for their summaries. Chosen from the externals alone, so that
  // shards pick the same TUs a single run does.
  std::set<std::string> Externals;
  for (const json &R : Results)
    for (const json &D : R.value("deferred", json::array()))
      for (const json &N : D["externals"])
        Externals.insert(N.get<std::string>());
  std::vector<size_t> Phase2;
  if (O.Prefilter && !Externals.empty())
    for (size_t I = 0; I < All.size(); ++I)
      if (!InPhase1Anywhere.count(I) &&
          llvm::any_of(Tokens[I].Defines, [&](const std::string &D) { return Externals.count(D); }))
        Phase2.push_back(I);
  std::vector<json> More = analyseAll(JobsOf(Phase2), Ctx, "summaries", "summary");
  for (json &R : More)
    Results.push_back(std::move(R));

  json Scan = mergeTuResults(std::move(Results), Tree, O.Checks, Digest, O.UnknownCalleesUse);
  Scan["unknown_callees"] = O.UnknownCalleesUse ? "uses" : "hand-off";
  return finish("scan", Scan, OutDir, O.Formats, O.Baseline, O.DocsUri);
}

int runMerge(int Argc, char **Argv) {
  std::vector<std::string> Dirs;
  std::string OutDir = "pageref-out", Baseline, DocsUri;
  std::vector<std::string> Formats = {"text", "json"};
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if ((A == "-o" || A == "--baseline" || A == "--format" || A == "--docs-uri") && I + 1 < Argc) {
      std::string V = Argv[++I];
      if (A == "-o")
        OutDir = V;
      else if (A == "--docs-uri")
        DocsUri = V;
      else if (A == "--baseline")
        Baseline = V;
      else {
        Formats.clear();
        for (llvm::StringRef F : llvm::split(V, ','))
          Formats.push_back(F.trim().str());
      }
    } else if (A == "-h" || A == "--help") {
      llvm::outs() << "usage: pageref merge DIR... [-o OUT_DIR] [--format text,json,sarif,html] [--baseline FILE] [--docs-uri URI]\n"
                      "Combines the per-TU results (DIR/tu/*.json) of scan shards or of `make C=1 CHECK='pageref "
                      "check -o DIR'`\ninto one scan, as one run would have written it.\n";
      return 0;
    } else if (A.starts_with("-")) {
      return fail("merge", "unknown argument '" + A + "'");
    } else {
      Dirs.push_back(A.str());
    }
  }
  if (Dirs.empty())
    return fail("merge", "give at least one directory of per-TU results");
  std::vector<json> TUs;
  std::string Tree, Checks, Digest;
  bool UnknownUses = false;
  for (const std::string &D : Dirs) {
    std::string TuDir = llvm::sys::fs::is_directory(D + "/tu") ? D + "/tu" : D;
    if (!llvm::sys::fs::is_directory(TuDir))
      return fail("merge", D + ": no such directory");
    std::error_code EC;
    std::vector<std::string> Files;
    for (llvm::sys::fs::directory_iterator It(TuDir, EC), End; It != End && !EC; It.increment(EC))
      if (llvm::StringRef(It->path()).ends_with(".json"))
        Files.push_back(It->path());
    if (EC)
      return fail("merge", TuDir + ": " + EC.message());
    std::sort(Files.begin(), Files.end());
    for (const std::string &F : Files) {
      std::string Err;
      auto J = readJson(F, Err);
      if (!J)
        return fail("merge", Err);
      if (!J->is_object() || J->value("schema", "") != "pageref-tu" || J->value("version", 0) != 1)
        return fail("merge", F + ": not a pageref per-TU result of version 1");
      if (J->contains("tree") && Tree.empty())
        Tree = (*J)["tree"];
      TUs.push_back(std::move(*J));
    }
  }
  // The shard's manifest names the tree, checks and model (scan.json).
  for (const std::string &D : Dirs) {
    std::string Err;
    if (auto M = readJson(D + "/pageref.json", Err); M && M->is_object()) {
      Tree = M->value("tree", Tree);
      Checks = M->value("checks", Checks);
      UnknownUses = M->value("unknown_callees", "") == "uses";
      Digest = M->value("api_model", Digest);
    }
  }
  if (Checks.empty())
    Checks = "pageref-*";
  if (Digest.empty()) {
    std::string Err;
    Digest = modelDigest({}, Err);
  }
  if (auto EC = llvm::sys::fs::create_directories(OutDir))
    return fail("merge", OutDir + ": cannot create the output directory: " + EC.message());
  json Scan = mergeTuResults(std::move(TUs), Tree, Checks, Digest, UnknownUses);
  Scan["unknown_callees"] = UnknownUses ? "uses" : "hand-off";
  return finish("merge", Scan, OutDir, Formats, Baseline, DocsUri);
}

int runBaseline(int Argc, char **Argv) {
  if (Argc < 2 || llvm::StringRef(Argv[1]) == "-h" || llvm::StringRef(Argv[1]) == "--help") {
    llvm::outs() << "usage: pageref baseline SCAN_JSON [-o BASELINE]\n"
                    "Writes the fingerprints of every finding of a scan (OUT_DIR/pageref.json), so that\n"
                    "`pageref scan --baseline BASELINE` reports only findings not in it.\n";
    return Argc < 2 ? 2 : 0;
  }
  std::string In = Argv[1], Out = "pageref-baseline.json";
  for (int I = 2; I < Argc; ++I) {
    if (llvm::StringRef(Argv[I]) == "-o" && I + 1 < Argc)
      Out = Argv[++I];
    else
      return fail("baseline", "unknown argument '" + std::string(Argv[I]) + "'");
  }
  std::string Err;
  auto J = readJson(In, Err);
  if (!J)
    return fail("baseline", Err);
  if (!J->is_object() || J->value("schema", "") != "pageref-scan" || J->value("version", 0) != 1)
    return fail("baseline", In + ": not a pageref scan of version 1 (schema \"pageref-scan\")");
  std::set<std::string> FPs;
  for (const json &F : (*J)["findings"])
    FPs.insert(F.value("fingerprint", ""));
  json Doc = {{"schema", "pageref-baseline"}, {"version", 1}, {"fingerprints", FPs}};
  Err = writeJsonAtomically(Doc, Out);
  if (!Err.empty())
    return fail("baseline", Err);
  llvm::errs() << "pageref baseline: " << FPs.size() << " findings in " << Out << "\n";
  return 0;
}

int runCheck(int Argc, char **Argv) {
  // Kbuild: $(CHECK) $(CHECKFLAGS) $(c_flags) FILE, run from the tree's top.
  std::string OutDir;
  int I = 1;
  std::vector<std::string> Rest;
  for (; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if ((A == "-o" || A == "--pageref-out") && I + 1 < Argc && OutDir.empty())
      OutDir = Argv[++I];
    else
      Rest.push_back(A.str());
  }
  if (OutDir.empty())
    if (const char *E = std::getenv("PAGEREF_CHECK_OUT"))
      OutDir = E;
  if (Rest.empty() || !llvm::StringRef(Rest.back()).ends_with(".c"))
    return fail("check", "usage: make C=1 CHECK='pageref check -o DIR' (the last argument must be the .c file)");
  std::string File = Rest.back();
  Rest.pop_back();
  // CHECKFLAGS (sparse's own options) come before the compiler flags, which
  // start with Kbuild's dependency option.
  auto Start = llvm::find_if(Rest, [](const std::string &A) { return llvm::StringRef(A).starts_with("-Wp,-M"); });
  if (Start != Rest.end())
    Rest.erase(Rest.begin(), Start);
  else
    llvm::erase_if(Rest, [](const std::string &A) {
      llvm::StringRef S = A;
      return S.starts_with("--arch=") || S == "-Wbitwise" || S == "-Wno-return-void" ||
             S == "-Wno-unknown-attribute" || S == "-mlittle-endian" || S == "-D__STDC__";
    });
  llvm::SmallString<256> Cwd;
  llvm::sys::fs::current_path(Cwd);
  CompileJob J;
  J.Directory = std::string(Cwd);
  J.File = absolutePath(File, J.Directory);
  J.Args.push_back("clang-19");
  J.Args.insert(J.Args.end(), Rest.begin(), Rest.end());
  J.Args.push_back("-c");
  J.Args.push_back(File);
  // Like sparse under C=1: a file that names no tracked function costs
  // nothing but the token scan.
  ApiModel Model = ApiModel::builtin();
  if (!mentionsAny(J.File, Model.allFunctionNames()))
    return 0;
  FrontendSettings S;
  json R = analyzeTranslationUnit(J, S);
  R["selected_by"] = "kbuild";
  R["tree"] = J.Directory;
  for (const json &F : R.value("findings", json::array())) {
    if (F.value("check", "") == "pageref-get-pages-caller")
      continue;
    llvm::outs() << F.value("file", "") << ":" << F.value("line", 0) << ":" << F.value("column", 0) << ": "
                 << F.value("severity", "warning") << ": " << F.value("message", "") << " [" << F.value("check", "")
                 << "]\n";
    for (const json &N : F["notes"])
      llvm::outs() << N.value("file", "") << ":" << N.value("line", 0) << ":" << N.value("column", 0)
                   << ": note: " << N.value("message", "") << "\n";
  }
  if (R.value("status", "") != "ok")
    llvm::errs() << "pageref check: " << File << ": " << R.value("error", "failed") << "\n";
  if (!OutDir.empty()) {
    std::string TuDir = absolutePath(OutDir, J.Directory) + "/tu";
    if (auto EC = llvm::sys::fs::create_directories(TuDir))
      return fail("check", TuDir + ": cannot create: " + EC.message());
    std::string Err = writeJsonAtomically(R, TuDir + "/" + resultName(J.File, J.Directory));
    if (!Err.empty())
      return fail("check", Err);
  }
  // Never fail the build for a finding, as sparse does not.
  return 0;
}

} // namespace pageref
