// `pageref inventory`: the get-pages caller inventory of a kernel tree.
//
// Each translation unit is analysed by the very plugin users load into
// clang-tidy-19, in its own worker process, so one TU that crashes or does not
// parse loses nothing else. The facts each worker writes (one JSON file per TU)
// are merged into one report, printed as a table.
#include "Inventory.h"
#include "Layout.h"

#include "pageref/ApiModel.h"
#include "pageref/Config.h"
#include "pageref/Facts.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <thread>

using nlohmann::json;

namespace pageref {
namespace {

struct Options {
  std::string BuildDir;
  std::string Debian;
  std::string OutDir = "pageref-out";
  std::string ClangTidy = PAGEREF_DEFAULT_CLANG_TIDY;
  unsigned Jobs = 2;
  bool Help = false;
};

int fail(const llvm::Twine &Msg) {
  llvm::errs() << "pageref inventory: " << Msg << "\n";
  return 2;
}

void usage(llvm::raw_ostream &OS) {
  OS << "usage: pageref inventory (-p BUILD_DIR | --debian 6.1|6.12) [-j N] [-o OUT_DIR] [--clang-tidy PATH]\n"
        "\n"
        "Runs pageref-get-pages-caller over every translation unit of BUILD_DIR/compile_commands.json\n"
        "that mentions a get-pages function, prints the call sites as a table and writes\n"
        "OUT_DIR/inventory.json (schema: docs/facts-schema.md). --debian prepares Debian's\n"
        "linux-source-VERSION first (tools/kernel/prepare-kernel.py; cached).\n";
}

std::optional<std::string> parse(int Argc, char **Argv, Options &O) {
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    auto Value = [&](const char *Name) -> std::optional<std::string> {
      if (I + 1 >= Argc)
        return std::nullopt;
      return std::string(Argv[++I]);
    };
    std::optional<std::string> V;
    if (A == "-h" || A == "--help") {
      O.Help = true;
    } else if (A.starts_with("-j") && A.size() > 2) {
      if (!llvm::to_integer(A.drop_front(2), O.Jobs) || O.Jobs == 0)
        return ("-j needs a positive number, got '" + A.drop_front(2) + "'").str();
    } else if (A == "-p" || A == "--debian" || A == "-o" || A == "-j" || A == "--clang-tidy") {
      if (!(V = Value(A.data())))
        return ("option " + A + " needs a value").str();
      if (A == "-p") O.BuildDir = *V;
      else if (A == "--debian") O.Debian = *V;
      else if (A == "-o") O.OutDir = *V;
      else if (A == "--clang-tidy") O.ClangTidy = *V;
      else if (!llvm::to_integer(*V, O.Jobs) || O.Jobs == 0)
        return "-j needs a positive number, got '" + *V + "'";
    } else {
      return ("unknown argument '" + A + "'").str();
    }
  }
  if (!O.Help && O.BuildDir.empty() == O.Debian.empty())
    return std::string("give exactly one of -p BUILD_DIR or --debian VERSION");
  return std::nullopt;
}

struct Unit {
  std::string File;      // absolute
  std::string Directory; // from the compile database
};

/// The translation units of the database, one per source file, in order.
std::optional<std::vector<Unit>> readDatabase(const std::string &BuildDir, std::string &Err) {
  llvm::SmallString<256> Path(BuildDir);
  llvm::sys::path::append(Path, "compile_commands.json");
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf) {
    Err = std::string(Path) + ": cannot read the compile database: " + Buf.getError().message();
    return std::nullopt;
  }
  json Doc = json::parse((*Buf)->getBuffer().begin(), (*Buf)->getBuffer().end(), nullptr, false);
  if (Doc.is_discarded() || !Doc.is_array()) {
    Err = std::string(Path) + ": not a JSON array of compile commands";
    return std::nullopt;
  }
  std::vector<Unit> Units;
  std::set<std::string> Seen;
  size_t Index = 0;
  for (const json &E : Doc) {
    if (!E.is_object() || !E.contains("file") || !E["file"].is_string() || !E.contains("directory") ||
        !E["directory"].is_string()) {
      Err = std::string(Path) + ": entry " + std::to_string(Index) + " has no 'file' or 'directory' string";
      return std::nullopt;
    }
    Unit U{E["file"].get<std::string>(), E["directory"].get<std::string>()};
    if (!llvm::sys::path::is_absolute(U.File)) {
      llvm::SmallString<256> Abs(U.Directory);
      llvm::sys::path::append(Abs, U.File);
      U.File = std::string(Abs);
    }
    if (Seen.insert(U.File).second)
      Units.push_back(U);
    ++Index;
  }
  return Units;
}

} // namespace

std::optional<std::string> prepareKernel(llvm::StringRef Mode, const std::string &What, std::string &Err) {
  auto Python = llvm::sys::findProgramByName("python3");
  if (!Python) {
    Err = "python3 not found (needed by tools/kernel/prepare-kernel.py)";
    return std::nullopt;
  }
  llvm::SmallString<128> OutFile;
  llvm::sys::fs::createTemporaryFile("pageref-prepare", "txt", OutFile);
  std::string Script = layout::prepareKernel();
  std::vector<llvm::StringRef> Args = {*Python, Script, Mode, What};
  std::optional<llvm::StringRef> Redirects[] = {std::nullopt, llvm::StringRef(OutFile), std::nullopt};
  int RC = llvm::sys::ExecuteAndWait(*Python, Args, std::nullopt, Redirects);
  auto Buf = llvm::MemoryBuffer::getFile(OutFile);
  llvm::sys::fs::remove(OutFile);
  std::string Input = Mode == "--debian" ? "Debian linux-source-" + What : What;
  if (RC != 0 || !Buf) {
    Err = "preparing " + Input + " failed (" + Script + " exited " + std::to_string(RC) + ")";
    return std::nullopt;
  }
  llvm::SmallVector<llvm::StringRef, 8> Lines;
  (*Buf)->getBuffer().trim().split(Lines, '\n');
  if (Lines.empty()) {
    Err = "prepare-kernel.py printed no tree path";
    return std::nullopt;
  }
  return Lines.back().trim().str();
}

std::optional<std::string> prepareDebian(const std::string &Version, std::string &Err) {
  return prepareKernel("--debian", Version, Err);
}

/// True if the file's text names one of \p Names as a whole identifier.
bool mentionsAny(const std::string &File, const std::vector<std::string> &Names) {
  auto Buf = llvm::MemoryBuffer::getFile(File);
  if (!Buf)
    return true; // let the worker report the missing file
  llvm::StringRef Text = (*Buf)->getBuffer();
  auto IsIdent = [](char C) { return llvm::isAlnum(C) || C == '_'; };
  for (const std::string &N : Names)
    for (size_t Pos = Text.find(N); Pos != llvm::StringRef::npos; Pos = Text.find(N, Pos + 1)) {
      bool Before = Pos > 0 && IsIdent(Text[Pos - 1]);
      bool After = Pos + N.size() < Text.size() && IsIdent(Text[Pos + N.size()]);
      if (!Before && !After)
        return true;
    }
  return false;
}

std::string shellQuote(llvm::StringRef S) {
  if (!S.empty() && S.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=,:+") ==
                        llvm::StringRef::npos)
    return S.str();
  std::string Q = "'";
  for (char C : S)
    Q += C == '\'' ? std::string("'\\''") : std::string(1, C);
  return Q + "'";
}


int runInventory(int Argc, char **Argv, const std::string &PluginPath) {
  Options O;
  if (auto Err = parse(Argc, Argv, O)) {
    usage(llvm::errs());
    return fail(*Err);
  }
  if (O.Help) {
    usage(llvm::outs());
    return 0;
  }
  if (!llvm::sys::fs::exists(PluginPath))
    return fail("the plugin is missing: " + PluginPath + " (rebuild pageref)");
  if (!llvm::sys::fs::can_execute(O.ClangTidy))
    return fail("clang-tidy not found or not executable: " + O.ClangTidy +
                " (apt-get install clang-tidy-19, or --clang-tidy PATH)");
  std::string Err;
  if (!O.Debian.empty()) {
    auto Tree = prepareDebian(O.Debian, Err);
    if (!Tree)
      return fail(Err);
    O.BuildDir = *Tree;
  }
  auto Units = readDatabase(O.BuildDir, Err);
  if (!Units)
    return fail(Err);

  ApiModel Model = ApiModel::builtin();
  std::vector<std::string> Names;
  for (auto &E : Model.getPagesFns())
    Names.push_back(E.first().str());
  std::vector<Unit> Selected;
  for (const Unit &U : *Units)
    if (mentionsAny(U.File, Names))
      Selected.push_back(U);

  llvm::SmallString<256> FactsDir(O.OutDir), LogDir(O.OutDir);
  llvm::sys::path::append(FactsDir, "facts");
  llvm::sys::path::append(LogDir, "logs");
  for (auto &D : {FactsDir, LogDir})
    if (std::error_code EC = llvm::sys::fs::create_directories(D))
      return fail(D + ": cannot create output directory: " + EC.message());
  llvm::sys::fs::make_absolute(FactsDir);

  llvm::errs() << "pageref inventory: " << Selected.size() << " of " << Units->size()
               << " translation units mention a get-pages function; analysing with -j" << O.Jobs << "\n";

  std::string Config = "{CheckOptions: {pageref-get-pages-caller.FactsDir: '" + std::string(FactsDir) + "'}}";
  struct Running {
    llvm::sys::ProcessInfo PI;
    size_t Index;
    std::string Log;
  };
  std::vector<Running> Active;
  std::vector<std::string> Failures;
  size_t Next = 0, Done = 0;
  auto Start = std::chrono::steady_clock::now();
  auto CommandFor = [&](const Unit &U) {
    return std::vector<std::string>{O.ClangTidy, "--load=" + PluginPath, "--checks=-*,pageref-get-pages-caller",
                                    "--config=" + Config, "--quiet", "-p", O.BuildDir, U.File};
  };
  while (Next < Selected.size() || !Active.empty()) {
    while (Active.size() < O.Jobs && Next < Selected.size()) {
      const Unit &U = Selected[Next];
      std::vector<std::string> Cmd = CommandFor(U);
      std::vector<llvm::StringRef> Args(Cmd.begin(), Cmd.end());
      llvm::SmallString<256> Log(LogDir);
      llvm::sys::path::append(Log, llvm::sys::path::filename(U.File).str() + "." + std::to_string(Next) + ".log");
      std::optional<llvm::StringRef> Redirects[] = {llvm::StringRef(""), llvm::StringRef(Log), llvm::StringRef(Log)};
      std::string ExecErr;
      bool Failed = false;
      llvm::sys::ProcessInfo PI =
          llvm::sys::ExecuteNoWait(O.ClangTidy, Args, std::nullopt, Redirects, 0, &ExecErr, &Failed);
      if (Failed) {
        Failures.push_back(U.File + ": could not start clang-tidy: " + ExecErr);
        ++Next;
        continue;
      }
      Active.push_back({PI, Next, std::string(Log)});
      ++Next;
    }
    bool Progress = false;
    for (size_t I = 0; I < Active.size();) {
      std::string WaitErr;
      llvm::sys::ProcessInfo R = llvm::sys::Wait(Active[I].PI, 0, &WaitErr);
      if (R.Pid == 0) { // still running
        ++I;
        continue;
      }
      const Unit &U = Selected[Active[I].Index];
      if (R.ReturnCode != 0) {
        std::string Repro;
        for (const std::string &A : CommandFor(U))
          Repro += (Repro.empty() ? "" : " ") + shellQuote(A);
        Failures.push_back(U.File + ": clang-tidy exited with " + std::to_string(R.ReturnCode) +
                           (R.ReturnCode < 0 ? " (crashed)" : "") + "; log: " + Active[I].Log +
                           "; reproduce with: " + Repro);
      }
      ++Done;
      Progress = true;
      Active.erase(Active.begin() + I);
    }
    if (Progress) {
      double Secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
      llvm::errs() << "  [" << Done << "/" << Selected.size() << "] " << llvm::format("%.1f", Secs) << " s\n";
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Merge the per-TU facts of the selected units.
  std::set<std::string> SelectedFiles;
  for (const Unit &U : Selected) {
    llvm::SmallString<256> Real;
    if (!llvm::sys::fs::real_path(U.File, Real))
      SelectedFiles.insert(std::string(Real));
  }
  std::string Root = Selected.empty() ? O.BuildDir : Selected.front().Directory;
  llvm::SmallString<256> RealRoot;
  if (!llvm::sys::fs::real_path(Root, RealRoot))
    Root = std::string(RealRoot);
  auto Relative = [&](std::string P) {
    llvm::StringRef S(P);
    if (S.consume_front(Root) && S.consume_front("/"))
      return S.str();
    return P;
  };
  std::vector<json> Sites;
  std::error_code EC;
  for (llvm::sys::fs::directory_iterator It(FactsDir, EC), End; It != End && !EC; It.increment(EC)) {
    if (!llvm::StringRef(It->path()).ends_with(".pageref.json"))
      continue;
    auto Buf = llvm::MemoryBuffer::getFile(It->path());
    if (!Buf)
      continue;
    json Doc = json::parse((*Buf)->getBuffer().begin(), (*Buf)->getBuffer().end(), nullptr, false);
    if (Doc.is_discarded() || Doc.value("schema", "") != "pageref-facts" || Doc.value("version", 0) != FactsSchemaVersion) {
      Failures.push_back(It->path() + ": not a pageref facts file of schema version " +
                         std::to_string(FactsSchemaVersion));
      continue;
    }
    if (!SelectedFiles.count(Doc.value("translation_unit", "")))
      continue; // left from an earlier run over other files
    for (json S : Doc["call_sites"]) {
      S["file"] = Relative(S.value("file", ""));
      for (const char *List : {"iter_evidence", "iter_stops", "sinks", "releases", "flow_stops"})
        for (json &E : S[List])
          E["file"] = Relative(E.value("file", ""));
      Sites.push_back(S);
    }
  }
  std::sort(Sites.begin(), Sites.end(), [](const json &A, const json &B) {
    return std::make_tuple(A["file"].get<std::string>(), A["line"].get<int>(), A["column"].get<int>()) <
           std::make_tuple(B["file"].get<std::string>(), B["line"].get<int>(), B["column"].get<int>());
  });

  json Report = {{"schema", "pageref-inventory"},
                 {"version", FactsSchemaVersion},
                 {"pageref_version", PAGEREF_VERSION},
                 {"api_model", Model.digest()},
                 {"tree", Root},
                 {"translation_units", Selected.size()},
                 {"failed_translation_units", Failures.size()},
                 {"call_sites", Sites}};
  llvm::SmallString<256> ReportPath(O.OutDir);
  llvm::sys::path::append(ReportPath, "inventory.json");
  std::string WriteErr = writeJsonAtomically(Report, ReportPath);
  if (!WriteErr.empty())
    return fail(WriteErr);

  // The table: one line per call site.
  std::map<std::string, unsigned> ByVerdict;
  llvm::outs() << llvm::format("%-36s %-34s %-26s %-40s %s\n", (const char *)"FILE:LINE", (const char *)"FUNCTION",
                               (const char *)"CALLEE", (const char *)"ITER KINDS", (const char *)"VERDICT");
  for (const json &S : Sites) {
    std::string Kinds = llvm::join(S["iter_kinds"].get<std::vector<std::string>>(), "|");
    std::string Where = S["file"].get<std::string>() + ":" + std::to_string(S["line"].get<int>());
    llvm::outs() << llvm::format("%-36s %-34s %-26s %-40s %s\n", Where.c_str(),
                                 S["function"].get<std::string>().c_str(), S["callee"].get<std::string>().c_str(),
                                 Kinds.c_str(), S["verdict"].get<std::string>().c_str());
    ++ByVerdict[S["verdict"].get<std::string>()];
  }
  llvm::outs() << "\n" << Sites.size() << " call sites in " << Selected.size() << " translation units:";
  for (auto &[V, N] : ByVerdict)
    llvm::outs() << " " << V << " " << N;
  llvm::outs() << "\nreport: " << ReportPath << " (reasons and evidence per call site)\n";
  for (const std::string &F : Failures)
    llvm::errs() << "pageref inventory: failed: " << F << "\n";
  return Failures.empty() ? 0 : 2;
}

} // namespace pageref
