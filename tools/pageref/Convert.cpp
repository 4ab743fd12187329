// `pageref convert`: the command. Picks the extract-ready call sites of a
// scan, has the rewriter (ConvertRewrite.cpp) write one patch per file,
// checks every patch in a copy-on-write copy of the tree (it applies, the
// touched objects compile with the kernel's make and no new warning,
// checkpatch has no error, a re-analysis calls the sites already-conditional
// and finds nothing new), and writes the patches, convert.json and the
// reports. docs/convert.md.
#include "Convert.h"
#include "Inventory.h"
#include "Report.h"
#include "ReportInternal.h"

#include "pageref/Config.h"
#include "pageref/Facts.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/GlobPattern.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <ctime>
#include <unistd.h>
#include <map>
#include <set>

using nlohmann::json;

extern "C" char **environ;

namespace pageref {

namespace {

int fail(const llvm::Twine &Msg) {
  llvm::errs() << "pageref convert: " << Msg << "\n";
  return 2;
}

std::string cwd() {
  llvm::SmallString<256> D;
  llvm::sys::fs::current_path(D);
  return std::string(D);
}

std::optional<std::string> slurp(const std::string &Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return std::nullopt;
  return (*Buf)->getBuffer().str();
}

std::string relTo(const std::string &Tree, const std::string &Path) {
  llvm::StringRef P(Path);
  if (P.starts_with(Tree + "/"))
    return P.drop_front(Tree.size() + 1).str();
  return Path;
}

void usage(llvm::raw_ostream &OS) {
  OS << "usage: pageref convert [KERNEL_TREE | --debian 6.1|6.12] [-p BUILD_DIR] [--scan JSON] [--sites GLOB]\n"
        "                       [--author 'NAME <EMAIL>'] [--no-verify] [-j N] -o DIR\n"
        "\n"
        "Writes, for every extract-ready call site (of the scan, or of a new one), a draft patch that moves it\n"
        "to iov_iter_extract_pages() with conditional releases (git format-patch form, one per file), checks\n"
        "each in a copy-on-write copy of the tree, and writes DIR/convert.json with every site's outcome and\n"
        "DIR/pageref.{json,sarif,html} linking the sites to their patches. docs/convert.md.\n"
        "  --scan JSON     use this scan (pageref scan's pageref.json) instead of scanning the tree\n"
        "  --sites GLOB    only sites whose 'file:function' matches (e.g. 'fs/nfs/*', '*:fuse_*')\n"
        "  --author ID     From: and Signed-off-by: of the drafts (default: git config user.name/email)\n"
        "  --no-verify     write the patches without the checks (status 'unverified')\n"
        "Exit status: 0 done (whatever was refused), 2 bad input or a failed step.\n";
}

struct Options {
  std::string Tree, BuildDir, Debian, OutDir, ScanJson, Sites, Author;
  bool Verify = true, Help = false;
  unsigned Jobs = 2;
};

std::optional<std::string> parse(int Argc, char **Argv, Options &O) {
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    auto Need = [&](std::string &Into) -> bool {
      if (I + 1 >= Argc)
        return false;
      Into = Argv[++I];
      return true;
    };
    if (A == "-h" || A == "--help")
      O.Help = true;
    else if (A == "--no-verify")
      O.Verify = false;
    else if (A == "-o" || A == "-p" || A == "--debian" || A == "--scan" || A == "--sites" || A == "--author" ||
             A == "-j") {
      std::string V;
      if (!Need(V))
        return ("option " + A + " needs a value").str();
      if (A == "-o")
        O.OutDir = V;
      else if (A == "-p")
        O.BuildDir = V;
      else if (A == "--debian")
        O.Debian = V;
      else if (A == "--scan")
        O.ScanJson = V;
      else if (A == "--sites")
        O.Sites = V;
      else if (A == "--author")
        O.Author = V;
      else if (!llvm::to_integer(V, O.Jobs) || O.Jobs == 0)
        return "-j needs a positive number, got '" + V + "'";
    } else if (!A.starts_with("-") && O.Tree.empty())
      O.Tree = A.str();
    else
      return ("unknown argument '" + A + "'").str();
  }
  if (!O.Help && O.OutDir.empty())
    return std::string("-o DIR is required");
  if (!O.Debian.empty() && !O.Tree.empty())
    return std::string("give a KERNEL_TREE or --debian, not both");
  return std::nullopt;
}

/// Runs \p Args[0] with \p Args in \p Dir, output (stdout and stderr) into
/// \p Log; returns the exit code (-1 when it could not start).
int run(const std::vector<std::string> &Args, const std::string &Dir, const std::string &Log,
        const std::vector<std::string> *Env = nullptr) {
  auto Prog = llvm::sys::findProgramByName(Args[0]);
  if (!Prog)
    return -1;
  std::vector<llvm::StringRef> A;
  for (const std::string &S : Args)
    A.push_back(S);
  std::vector<llvm::StringRef> E;
  if (Env)
    for (const std::string &S : *Env)
      E.push_back(S);
  std::optional<llvm::StringRef> Redirects[] = {llvm::StringRef("/dev/null"), llvm::StringRef(Log),
                                                llvm::StringRef(Log)};
  llvm::SmallString<256> Old;
  llvm::sys::fs::current_path(Old);
  if (!Dir.empty() && llvm::sys::fs::set_current_path(Dir))
    return -1;
  std::string Err;
  int RC = llvm::sys::ExecuteAndWait(*Prog, A, Env ? std::optional<llvm::ArrayRef<llvm::StringRef>>(E) : std::nullopt,
                                     Redirects, 0, 0, &Err);
  llvm::sys::fs::set_current_path(Old);
  return RC;
}

/// The environment for the kernel's make, without what would change what
/// kbuild does behind our back (as tools/kernel/prepare-kernel.py scrubs it).
std::vector<std::string> makeEnv() {
  static const std::set<std::string> Scrub = {"MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "MAKEFILES",
                                              "MAKEOVERRIDES", "O", "KBUILD_OUTPUT", "ARCH", "SRCARCH",
                                              "CROSS_COMPILE", "LLVM", "LLVM_IAS", "M", "KBUILD_EXTMOD", "CC",
                                              "LD", "AR"};
  std::vector<std::string> Out;
  for (char **E = environ; *E; ++E) {
    llvm::StringRef S(*E);
    if (!Scrub.count(S.split('=').first.str()))
      Out.push_back(S.str());
  }
  return Out;
}

/// A copy-on-write view of the tree: an overlay mount (the cached tree is
/// its read-only lower layer), or, where mounting is not allowed, a copy.
class Scratch {
public:
  Scratch(const std::string &Tree, const std::string &Dir) : Dir(Dir) {
    llvm::sys::fs::remove_directories(Dir);
    for (const char *D : {"upper", "work", "tree"})
      llvm::sys::fs::create_directories(Dir + "/" + D);
    Root = Dir + "/tree";
    std::string Log = Dir + "/mount.log";
    int RC = run({"mount", "-t", "overlay", "overlay", "-o",
                  "lowerdir=" + Tree + ",upperdir=" + Dir + "/upper,workdir=" + Dir + "/work", Root},
                 "", Log);
    if (RC == 0) {
      Mounted = true;
      return;
    }
    llvm::sys::fs::remove_directories(Root);
    if (run({"cp", "-a", Tree, Root}, "", Log) != 0)
      Error = "cannot make a copy of " + Tree + " in " + Root + " (overlay mount and cp -a failed; " + Log + ")";
  }
  ~Scratch() {
    if (Mounted)
      run({"umount", Root}, "", Dir + "/umount.log");
    llvm::sys::fs::remove_directories(Dir);
  }
  std::string Dir, Root, Error;
  bool Mounted = false;
};

/// Warnings of a make log, without line and column: "fs/x.c: warning: ... [-Wfoo]".
std::multiset<std::string> warningsOf(const std::string &Log) {
  std::multiset<std::string> Out;
  static const llvm::Regex W("^([^ :]+):[0-9]+:[0-9]+: warning: (.*)$");
  for (llvm::StringRef L : llvm::split(slurp(Log).value_or(""), '\n')) {
    llvm::SmallVector<llvm::StringRef, 3> M;
    if (W.match(L, &M))
      Out.insert(M[1].str() + ": warning: " + M[2].str());
  }
  return Out;
}

std::string objectOf(const std::string &Rel) { return Rel.substr(0, Rel.size() - 2) + ".o"; }

/// A finding, for "did the patched tree gain one": no line numbers.
std::string findingKey(const json &F) {
  static const llvm::Regex Num("(line |:)[0-9]+");
  std::string Msg = F.value("message", "");
  while (Num.match(Msg))
    Msg = Num.sub("\\1N", Msg);
  return F.value("check", "") + "|" + F.value("file", "") + "|" + F.value("function", "") + "|" + Msg;
}

struct PatchFile {
  std::string Name;       // 0002-NFS-convert-....patch
  std::string Text;
  std::vector<std::string> Files; // relative paths the patch touches
  std::vector<size_t> Sites;      // indices into the site list
  bool Prerequisite = false;
  json Checks = json::object();
  bool Passed = true;
};

std::string slug(const std::string &Subject) {
  std::string S;
  for (char C : Subject) {
    if (std::isalnum(static_cast<unsigned char>(C)) || C == '_' || C == '.')
      S += C;
    else if (!S.empty() && S.back() != '-')
      S += '-';
  }
  while (!S.empty() && (S.back() == '-' || S.back() == '.'))
    S.pop_back();
  return S.substr(0, 52);
}

/// The subject prefix a subsystem's own commits use.
std::string subjectPrefix(const std::string &Rel) {
  llvm::StringRef R(Rel);
  llvm::SmallVector<llvm::StringRef, 6> Parts;
  R.split(Parts, '/');
  std::string File = llvm::sys::path::stem(R).str();
  if (R.starts_with("crypto/"))
    return "crypto: " + File + " - ";
  if (R.starts_with("fs/smb/client/") || R.starts_with("fs/cifs/"))
    return "cifs: ";
  if (R.starts_with("fs/nfs/"))
    return "NFS: ";
  if (R.starts_with("drivers/vhost/"))
    return "vhost-" + File + ": ";
  if (R == "lib/iov_iter.c")
    return "iov_iter: ";
  // A driver directory of a device class (drivers/block/ublk_drv.c): the driver's name.
  if (Parts.size() == 3 && Parts[0] == "drivers" &&
      llvm::is_contained({"block", "char", "misc", "scsi", "net", "md"}, Parts[1]))
    return llvm::StringRef(File).rsplit("_drv").first.rsplit("_main").first.str() + ": ";
  if (Parts.size() >= 3 && (Parts[0] == "fs" || Parts[0] == "drivers"))
    return Parts[1].str() + ": ";
  if (Parts.size() >= 3 && Parts[0] == "net")
    return "net/" + Parts[1].str() + ": ";
  if (Parts.size() >= 2)
    return Parts[0].str() + ": ";
  return File + ": ";
}

/// Text wrapped at \p Width columns, continuation lines indented by \p Hang.
std::string wrap(const std::string &Text, const std::string &First, const std::string &Hang, unsigned Width = 72) {
  std::string Out, Line = First;
  bool Fresh = true;
  for (llvm::StringRef W : llvm::split(Text, ' ')) {
    if (W.empty())
      continue;
    if (!Fresh && Line.size() + 1 + W.size() > Width) {
      Out += Line + "\n";
      Line = Hang;
      Fresh = true;
    }
    Line += (Fresh ? "" : " ") + W.str();
    Fresh = false;
  }
  return Out + Line + "\n";
}

std::string authorIdentity(const std::string &Given) {
  if (!Given.empty())
    return Given;
  std::string Tmp = "/tmp/pageref-convert-git-" + std::to_string(::getpid());
  std::string Name, Mail;
  if (run({"git", "config", "user.name"}, "", Tmp) == 0)
    Name = llvm::StringRef(slurp(Tmp).value_or("")).trim().str();
  if (run({"git", "config", "user.email"}, "", Tmp) == 0)
    Mail = llvm::StringRef(slurp(Tmp).value_or("")).trim().str();
  llvm::sys::fs::remove(Tmp);
  if (Name.empty() || Mail.empty())
    return "pageref convert <pageref-convert@example.org>";
  return Name + " <" + Mail + ">";
}

std::string patchDate() {
  std::time_t T = std::time(nullptr);
  if (const char *E = std::getenv("SOURCE_DATE_EPOCH"))
    T = std::strtoll(E, nullptr, 10);
  char Buf[64];
  std::strftime(Buf, sizeof Buf, "%a, %d %b %Y %H:%M:%S +0000", std::gmtime(&T));
  return Buf;
}

std::string diffstat(const std::string &Diff) {
  std::map<std::string, std::pair<unsigned, unsigned>> Per;
  std::string Cur;
  for (llvm::StringRef L : llvm::split(Diff, '\n')) {
    if (L.starts_with("+++ b/"))
      Cur = L.drop_front(6).str();
    else if (L.starts_with("--- ") || L.starts_with("diff --git"))
      continue;
    else if (L.starts_with("+"))
      ++Per[Cur].first;
    else if (L.starts_with("-"))
      ++Per[Cur].second;
  }
  std::string Out;
  unsigned Ins = 0, Del = 0;
  for (auto &[F, C] : Per) {
    Out += " " + F + " | " + std::to_string(C.first + C.second) + " " + std::string(std::min(C.first, 40u), '+') +
           std::string(std::min(C.second, 40u), '-') + "\n";
    Ins += C.first;
    Del += C.second;
  }
  Out += " " + std::to_string(Per.size()) + " file" + (Per.size() == 1 ? "" : "s") + " changed, " +
         std::to_string(Ins) + " insertion" + (Ins == 1 ? "" : "s") + "(+), " + std::to_string(Del) + " deletion" +
         (Del == 1 ? "" : "s") + "(-)\n";
  return Out;
}

std::string formatPatch(const std::string &Author, const std::string &Subject, const std::string &Body,
                        const std::vector<std::string> &Cc, const std::string &Diff, unsigned N, unsigned Total) {
  std::string S = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n";
  S += "From: " + Author + "\n";
  S += "Date: " + patchDate() + "\n";
  std::string Num = Total > 1 ? "[PATCH " + std::to_string(N) + "/" + std::to_string(Total) + "] " : "[PATCH] ";
  S += "Subject: " + Num + Subject + "\n\n";
  S += Body;
  if (!Body.empty() && Body.back() != '\n')
    S += "\n";
  S += "\n";
  for (const std::string &C : Cc)
    S += "Cc: " + C + "\n";
  S += "Signed-off-by: " + Author + "\n";
  S += "---\n";
  S += diffstat(Diff) + "\n";
  S += Diff;
  S += "-- \npageref " PAGEREF_VERSION "\n\n";
  return S;
}

json evidenceList(const json &L, unsigned Max) {
  json Out = json::array();
  for (const json &E : L) {
    if (Out.size() >= Max)
      break;
    Out.push_back(E);
  }
  return Out;
}

std::string siteSection(const ConvertSite &S, const SiteConversion &C, const std::string &Rel) {
  const json &R = S.Record;
  std::string Out = wrap(S.Function + "() (" + Rel + ":" + std::to_string(S.Line) + ", " + S.Callee + "()):", "", "  ");
  std::string Kinds;
  for (const json &K : R.value("iter_kinds", json::array()))
    Kinds += (Kinds.empty() ? "" : "|") + K.get<std::string>();
  Out += wrap("iterator kinds that reach it: " + (Kinds.empty() ? std::string("none found") : Kinds) +
                  "; the evidence:",
              "- ", "  ");
  for (const json &E : evidenceList(R.value("iter_evidence", json::array()), 5))
    Out += wrap(E.value("message", "") + " (" + E.value("file", "") + ":" + std::to_string(E.value("line", 0)) + ")",
                "  - ", "    ");
  for (const json &K : R.value("sinks", json::array()))
    Out += wrap("the pages go to " + K.value("owner", "") + " via " + K.value("via", "") + " in " +
                    K.value("in_function", "") + "() (line " + std::to_string(K.value("line", 0)) + ")",
                "- ", "  ");
  for (const json &K : R.value("releases", json::array()))
    Out += wrap("released by " + K.value("function", "") + "() in " + K.value("in_function", "") + "() (line " +
                    std::to_string(K.value("line", 0)) + ", route " + K.value("route", "") + ")",
                "- ", "  ");
  if (R.contains("async") && R["async"].is_object())
    Out += wrap("an async completion owns them: " + R["async"].value("completion", "") + "() via " +
                    R["async"].value("via", "") +
                    (R["async"].value("wait", "").empty() ? std::string(", not waited for")
                                                          : ", waited for by " + R["async"].value("wait", "")),
                "- ", "  ");
  Out += wrap("why the conversion is safe: " + R.value("reason", ""), "- ", "  ");
  Out += "- what this patch changes:\n";
  for (const std::string &D : C.Done)
    Out += wrap(D, "  - ", "    ");
  return Out;
}

} // namespace

int runConvert(int Argc, char **Argv, const std::string &Self) {
  Options O;
  if (auto E = parse(Argc, Argv, O)) {
    usage(llvm::errs());
    return fail(*E);
  }
  if (O.Help) {
    usage(llvm::outs());
    return 0;
  }
  std::string Err;
  // The tree and its compile database.
  std::string Tree = O.Tree, DbDir = O.BuildDir;
  if (Tree.empty() && DbDir.empty() && O.ScanJson.empty() && O.Debian.empty())
    O.Debian = "6.1";
  if (!O.Debian.empty()) {
    auto T = prepareDebian(O.Debian, Err);
    if (!T)
      return fail(Err);
    Tree = *T;
  }
  json Scan;
  if (!O.ScanJson.empty()) {
    if (std::string E = loadScan(absolutePath(O.ScanJson, cwd()), Scan); !E.empty())
      return fail(E);
    if (Tree.empty())
      Tree = Scan["tree"].get<std::string>();
  }
  if (Tree.empty())
    return fail("give a KERNEL_TREE, --debian VERSION or --scan JSON");
  Tree = absolutePath(Tree, cwd());
  if (!llvm::sys::fs::is_directory(Tree))
    return fail(Tree + ": no such directory");
  DbDir = DbDir.empty() ? Tree : absolutePath(DbDir, cwd());

  std::string OutDir = absolutePath(O.OutDir, cwd());
  if (auto EC = llvm::sys::fs::create_directories(OutDir))
    return fail(OutDir + ": cannot create it: " + EC.message());
  // Patches of an earlier run in DIR are replaced.
  {
    std::error_code EC;
    for (llvm::sys::fs::directory_iterator It(OutDir, EC), End; It != End && !EC; It.increment(EC))
      if (llvm::StringRef(It->path()).ends_with(".patch"))
        llvm::sys::fs::remove(It->path());
    llvm::sys::fs::remove_directories(OutDir + "/failed");
  }
  std::string Work = OutDir + "/.work";
  llvm::sys::fs::create_directories(Work);

  if (O.ScanJson.empty()) {
    // pageref scan prepares a kernel tree that has no compile database yet.
    std::vector<std::string> Args = {Self, "scan", Tree, "-o", OutDir + "/scan", "--format", "json", "-j",
                                     std::to_string(O.Jobs)};
    if (!O.BuildDir.empty())
      Args.insert(Args.begin() + 3, {"-p", DbDir});
    llvm::errs() << "pageref convert: scanning " << Tree << "\n";
    int RC = run(Args, "", Work + "/scan.log");
    if (RC != 0 && RC != 1)
    {
      std::string Log = slurp(Work + "/scan.log").value_or("");
      llvm::StringRef Last = llvm::StringRef(Log).trim();
      Last = Last.substr(Last.rfind('\n') + 1); // npos + 1 == 0: the whole text
      return fail("pageref scan of " + Tree + " failed (exit " + std::to_string(RC) + "): " + Last.str());
    }
    if (std::string E = loadScan(OutDir + "/scan/pageref.json", Scan); !E.empty())
      return fail(E);
  }
  DbDir = DbDir.empty() ? Tree : absolutePath(DbDir, cwd());
  std::string DbPath = DbDir + "/compile_commands.json";
  std::string DbErr;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(DbPath, DbErr,
                                                                  clang::tooling::JSONCommandLineSyntax::AutoDetect);
  if (!DB)
    return fail(DbPath + ": not a usable compile database: " + DbErr);

  // The sites: extract-ready, matching --sites.
  std::optional<llvm::GlobPattern> Glob;
  if (!O.Sites.empty()) {
    auto G = llvm::GlobPattern::create(O.Sites);
    if (!G)
      return fail("--sites '" + O.Sites + "': " + llvm::toString(G.takeError()));
    Glob = std::move(*G);
  }
  std::vector<ConvertSite> Sites;
  for (const json &C : Scan["call_sites"]) {
    if (C.value("verdict", "") != "extract-ready")
      continue;
    std::string Rel = C["file"].get<std::string>();
    std::string Key = Rel + ":" + C.value("function", "");
    if (Glob && !Glob->match(Key) && !Glob->match(Rel))
      continue;
    ConvertSite S;
    S.File = absolutePath(Rel, Tree);
    S.Line = C["line"].get<unsigned>();
    S.Column = C["column"].get<unsigned>();
    S.Function = C.value("function", "");
    S.Callee = C.value("callee", "");
    S.Record = C;
    Sites.push_back(std::move(S));
  }
  llvm::errs() << "pageref convert: " << Sites.size() << " extract-ready call sites\n";

  // What functions of other files do with pages handed to them.
  std::map<std::string, std::string> Externals;
  for (const json &Sum : Scan.value("summaries", json::array())) {
    std::string Effect;
    if (!Sum.contains("params") || !Sum["params"].is_object())
      continue;
    for (auto &[Param, E] : Sum["params"].items()) {
      if (!E.is_object())
        continue;
      std::string Ef = E.value("effect", "");
      if (llvm::StringRef(Ef).starts_with("releases"))
        Effect = "releases them (" + E.value("family", "") + ", " + E.value("via", "") + " in " +
                 Sum.value("file", "") + ")";
      else if (Effect.empty())
        Effect = Ef;
    }
    Externals[Sum.value("function", "")] = Effect;
  }

  // Rewrite, one TU at a time.
  std::map<std::string, std::vector<size_t>> ByFile;
  for (size_t I = 0; I < Sites.size(); ++I)
    ByFile[Sites[I].File].push_back(I);
  std::vector<SiteConversion> Results(Sites.size());
  std::vector<std::string> Status(Sites.size(), "refused");
  std::vector<std::string> PatchOf(Sites.size());
  std::vector<PatchFile> Patches;
  bool NeedPrereq = false;
  for (auto &[File, Idx] : ByFile) {
    std::vector<clang::tooling::CompileCommand> Cmds = DB->getCompileCommands(File);
    if (Cmds.empty()) {
      for (size_t I : Idx)
        Results[I].Reason = "no compile command for " + relTo(Tree, File) + " in " + DbPath;
      continue;
    }
    CompileJob Job{Cmds[0].Directory, File, Cmds[0].CommandLine};
    std::vector<ConvertSite> Mine;
    for (size_t I : Idx)
      Mine.push_back(Sites[I]);
    llvm::errs() << "pageref convert: rewriting " << relTo(Tree, File) << "\n";
    TuConversion T = convertTranslationUnit(Job, Mine, Tree, Externals);
    if (!T.Error.empty()) {
      for (size_t I : Idx)
        Results[I].Reason = "the file could not be rewritten: " + T.Error;
      continue;
    }
    for (size_t K = 0; K < Idx.size(); ++K)
      Results[Idx[K]] = T.Sites[K];
    if (T.Rewritten.empty())
      continue;
    NeedPrereq |= T.TreeLacksExtractApi;
    PatchFile P;
    std::string Diff;
    // The .c file first, then headers.
    std::vector<std::string> Paths;
    for (auto &[Path, New] : T.Rewritten)
      Paths.push_back(Path);
    std::stable_sort(Paths.begin(), Paths.end(), [&](const std::string &A, const std::string &B) {
      return (A == File) > (B == File);
    });
    for (const std::string &Path : Paths) {
      std::string Rel = relTo(Tree, Path);
      Diff += unifiedDiff(Rel, T.Original[Path], T.Rewritten[Path], Err);
      if (!Err.empty())
        return fail(Err);
      P.Files.push_back(Rel);
    }
    for (size_t I : Idx)
      if (Results[I].Converted)
        P.Sites.push_back(I);
    P.Text = Diff; // the message is added once the numbering is known
    Patches.push_back(std::move(P));
  }

  // The prerequisite for kernels before 6.3.
  if (NeedPrereq) {
    std::map<std::string, std::string> Old, New;
    std::string Diff = extractApiPrerequisite(Tree, Old, New, Err);
    if (Diff.empty())
      return fail("the tree has no iov_iter_extract_pages() and the prerequisite cannot be written: " + Err);
    PatchFile P;
    P.Prerequisite = true;
    P.Text = Diff;
    P.Files = {"include/linux/uio.h", "lib/iov_iter.c"};
    Patches.insert(Patches.begin(), std::move(P));
  }

  // Messages, names.
  report::Maintainers M;
  std::string MaintErr = M.load(Tree);
  std::string Author = authorIdentity(O.Author);
  for (size_t N = 0; N < Patches.size(); ++N) {
    PatchFile &P = Patches[N];
    std::string Subject, Body;
    std::set<std::string> CcSet;
    std::vector<std::string> Cc;
    auto AddCc = [&](const std::string &Rel) {
      if (!MaintErr.empty())
        return;
      if (const report::Subsystem *S = M.lookup(Rel)) {
        for (const std::string &X : S->Maintainers)
          if (CcSet.insert(X).second)
            Cc.push_back(X);
        for (const std::string &X : S->Lists)
          if (CcSet.insert(X).second)
            Cc.push_back(X);
      }
    };
    if (P.Prerequisite) {
      Subject = "iov_iter: add iov_iter_extract_pages() and iov_iter_extract_will_pin()";
      Body = wrap("This kernel has no iov_iter_extract_pages(). Add a minimal one with the contract the "
                  "conversions that follow rely on: the pages of a user-backed iterator are pinned "
                  "(FOLL_PIN, released with unpin_user_page*()), the pages of any other kind are returned "
                  "without a reference because the iterator's owner keeps them, and "
                  "iov_iter_extract_will_pin() says which. *pages is allocated when it is NULL and is not "
                  "freed on failure. Kinds iov_iter_get_pages2() refuses (KVEC) are refused the same way.",
                  "", "") +
             "\n" +
             wrap("Upstream added the full function in 6.3 (lib/iov_iter.c); a backport of that series "
                  "can replace this patch, the conversions do not depend on which.",
                  "", "");
      AddCc("lib/iov_iter.c");
    } else {
      std::string Rel = P.Files.front();
      std::vector<std::string> Fns;
      for (size_t I : P.Sites)
        if (!llvm::is_contained(Fns, Sites[I].Function + "()"))
          Fns.push_back(Sites[I].Function + "()");
      Subject = subjectPrefix(Rel) + "use iov_iter_extract_pages() in " +
                (Fns.size() == 1 ? Fns[0] : Fns.size() == 2 ? Fns[0] + " and " + Fns[1] : Rel);
      if (Subject.size() > 75)
        Subject = subjectPrefix(Rel) + "use iov_iter_extract_pages() in " + llvm::sys::path::filename(Rel).str();
      std::string Callees;
      for (size_t I : P.Sites)
        if (Callees.find(Sites[I].Callee) == std::string::npos)
          Callees += (Callees.empty() ? "" : " and ") + Sites[I].Callee + "()";
      Body = wrap(llvm::join(Fns, ", ") + " take" + (Fns.size() == 1 ? "s" : "") + " page references with " +
                      Callees + " whatever the kind of the iterator. Use iov_iter_extract_pages() instead: "
                      "it pins the pages of a user-backed iterator and takes no reference for the other "
                      "kinds (BVEC, XARRAY, PIPE), whose owner keeps them alive for as long as the caller "
                      "uses them (Al Viro, 2022-09-01). Whether the pages are pinned is decided by the "
                      "iterator the call extracts from (iov_iter_extract_will_pin()), and every release "
                      "pageref found becomes unpin_user_page*() when they are, nothing otherwise.",
                  "", "") +
             "\n";
      std::vector<std::string> Checks;
      for (size_t I : P.Sites) {
        Body += siteSection(Sites[I], Results[I], Rel) + "\n";
        for (const std::string &C : Results[I].AuthorChecks)
          if (!llvm::is_contained(Checks, C))
            Checks.push_back(C);
      }
      Body += "What the author must still check:\n";
      for (const std::string &C : Checks)
        Body += wrap(C, "- ", "  ");
      Body += wrap("that no release outside this file (another translation unit, a function pointer pageref "
                   "did not follow) drops these pages",
                   "- ", "  ");
      Body += "\n" + wrap("Found and written by pageref convert; checked with the kernel's make, "
                          "scripts/checkpatch.pl and a re-analysis of the patched tree.",
                          "", "");
      for (const std::string &F : P.Files)
        AddCc(F);
    }
    P.Name = (N + 1 < 10 ? "000" : "00") + std::to_string(N + 1) + "-" + slug(Subject) + ".patch";
    P.Text = formatPatch(Author, Subject, Body, Cc, P.Text, N + 1, Patches.size());
    for (size_t I : P.Sites)
      PatchOf[I] = P.Name;
  }

  // The checks, each patch on its own copy (with the prerequisite first).
  json OrigFindings = json::array();
  std::map<std::string, std::multiset<std::string>> BaseWarnings; // object -> warnings
  std::vector<std::string> Env = makeEnv();
  auto Write = [&](const std::string &Path, const std::string &Text) {
    if (std::string E = writeTextAtomically(Text, Path); !E.empty()) {
      fail(E);
      return false;
    }
    return true;
  };
  for (PatchFile &P : Patches)
    if (!Write(Work + "/" + P.Name, P.Text))
      return 2;
  // The TUs whose objects a patch must rebuild: the touched .c files and
  // every TU of the database whose text includes a touched header.
  std::vector<std::string> AllFiles = DB->getAllFiles();
  auto Objects = [&](const PatchFile &P) {
    std::vector<std::string> Objs;
    for (const std::string &F : P.Files) {
      if (llvm::StringRef(F).ends_with(".c")) {
        Objs.push_back(objectOf(F));
        continue;
      }
      llvm::StringRef H(F);
      std::string Inc = H.starts_with("include/") ? H.drop_front(8).str() : llvm::sys::path::filename(H).str();
      for (const std::string &Abs : AllFiles) {
        std::string Rel = relTo(Tree, Abs);
        if (!llvm::StringRef(Rel).ends_with(".c") || llvm::is_contained(Objs, objectOf(Rel)))
          continue;
        if (slurp(Abs).value_or("").find(Inc) != std::string::npos)
          Objs.push_back(objectOf(Rel));
      }
    }
    return Objs;
  };
  const PatchFile *Prereq = !Patches.empty() && Patches[0].Prerequisite ? &Patches[0] : nullptr;
  unsigned MakeJobs = O.Jobs;

  if (O.Verify && !Patches.empty()) {
    // Baseline warnings of every object any patch rebuilds, in one make.
    std::set<std::string> AllObjs;
    for (const PatchFile &P : Patches)
      for (const std::string &Ob : Objects(P))
        AllObjs.insert(Ob);
    {
      llvm::errs() << "pageref convert: building " << AllObjs.size() << " objects of the unpatched tree\n";
      Scratch S(Tree, Work + "/baseline");
      if (!S.Error.empty())
        return fail(S.Error);
      std::vector<std::string> Touch = {"touch"}, MakeArgs = {"make", "CC=clang-19", "-j" + std::to_string(MakeJobs),
                                                             "-k"};
      for (const std::string &Ob : AllObjs) {
        Touch.push_back(Ob.substr(0, Ob.size() - 2) + ".c");
        MakeArgs.push_back(Ob);
      }
      run(Touch, S.Root, Work + "/baseline-touch.log");
      run(MakeArgs, S.Root, Work + "/baseline-make.log", &Env);
      for (const std::string &W : warningsOf(Work + "/baseline-make.log"))
        BaseWarnings[W.substr(0, W.find(": warning: "))].insert(W);
    }
    for (const json &F : Scan["findings"])
      OrigFindings.push_back(F);
  }

  for (size_t N = 0; O.Verify && N < Patches.size(); ++N) {
    PatchFile &P = Patches[N];
    llvm::errs() << "pageref convert: checking " << P.Name << "\n";
    Scratch S(Tree, Work + "/check-" + std::to_string(N + 1));
    if (!S.Error.empty())
      return fail(S.Error);
    std::string Log = Work + "/" + P.Name + ".log";
    // 1. It applies (after the prerequisite).
    bool Applies = true;
    std::vector<const PatchFile *> Series;
    if (Prereq && &P != Prereq)
      Series.push_back(Prereq);
    Series.push_back(&P);
    // git apply as `git am` would, on the copy: never on a repository the
    // copy happens to be inside.
    std::vector<std::string> GitEnv = Env;
    GitEnv.push_back("GIT_CEILING_DIRECTORIES=" + llvm::sys::path::parent_path(S.Root).str());
    for (const PatchFile *Q : Series) {
      std::string QPath = Work + "/" + Q->Name;
      if (run({"git", "apply", "--check", QPath}, S.Root, Log + ".apply", &GitEnv) != 0 ||
          run({"git", "apply", QPath}, S.Root, Log + ".apply", &GitEnv) != 0)
        Applies = false;
    }
    P.Checks["applies"] = Applies;
    if (!Applies) {
      P.Checks["apply_output"] = slurp(Log + ".apply").value_or("");
      P.Passed = false;
      continue;
    }
    // 2. The touched objects compile, with no new warning.
    std::vector<std::string> Objs = Objects(P);
    std::vector<std::string> MakeArgs = {"make", "CC=clang-19", "-j" + std::to_string(MakeJobs), "-k"};
    for (const std::string &Ob : Objs)
      MakeArgs.push_back(Ob);
    int RC = run(MakeArgs, S.Root, Log + ".make", &Env);
    bool Built = RC == 0;
    for (const std::string &Ob : Objs)
      Built = Built && llvm::sys::fs::exists(S.Root + "/" + Ob);
    json NewW = json::array();
    std::map<std::string, std::multiset<std::string>> Now;
    for (const std::string &W : warningsOf(Log + ".make"))
      Now[W.substr(0, W.find(": warning: "))].insert(W);
    for (auto &[File, Ws] : Now) {
      std::multiset<std::string> Base = BaseWarnings[File];
      for (const std::string &W : Ws) {
        auto It = Base.find(W);
        if (It != Base.end())
          Base.erase(It);
        else
          NewW.push_back(W);
      }
    }
    P.Checks["compile"] = {{"objects", Objs}, {"ok", Built}, {"new_warnings", NewW}, {"make_exit", RC}};
    if (!Built)
      P.Checks["compile"]["output_tail"] = [&] {
        std::string T = slurp(Log + ".make").value_or("");
        return T.size() > 4000 ? T.substr(T.size() - 4000) : T;
      }();
    // 3. checkpatch, inside the tree copy.
    int CRC = run({"perl", "scripts/checkpatch.pl", Work + "/" + P.Name}, S.Root, Log + ".checkpatch");
    std::string CP = slurp(Log + ".checkpatch").value_or("");
    static const llvm::Regex Total("total: ([0-9]+) errors, ([0-9]+) warnings");
    llvm::SmallVector<llvm::StringRef, 3> TM;
    unsigned Errors = 0, Warnings = 0;
    bool Parsed = Total.match(CP, &TM);
    if (Parsed) {
      llvm::to_integer(TM[1], Errors);
      llvm::to_integer(TM[2], Warnings);
    }
    json Lines = json::array();
    for (llvm::StringRef L : llvm::split(CP, '\n'))
      if (L.starts_with("ERROR:") || L.starts_with("WARNING:") || L.starts_with("CHECK:"))
        Lines.push_back(L.str());
    P.Checks["checkpatch"] = {{"errors", Errors}, {"warnings", Warnings}, {"ran", Parsed}, {"exit", CRC},
                              {"messages", Lines}};
    bool CheckpatchOk = Parsed && Errors == 0;
    // 4. The re-analysis of the patched tree: the touched TUs (and those of
    // the scan's summaries) with the compile commands moved to the copy.
    bool Clean = true;
    json Verdicts = json::array(), NewFindings = json::array();
    if (!P.Prerequisite) {
      std::set<std::string> Rels;
      for (const std::string &Ob : Objs)
        Rels.insert(Ob.substr(0, Ob.size() - 2) + ".c");
      std::set<std::string> ScanRels = Rels;
      for (const json &T : Scan["translation_units"])
        if (T.value("selected_by", "") == "summary")
          ScanRels.insert(T["file"].get<std::string>());
      json Db = json::array();
      std::string DbText = slurp(DbPath).value_or("[]");
      json Full = json::parse(DbText, nullptr, false);
      auto Move = [&](std::string V) {
        size_t Pos = 0;
        while ((Pos = V.find(Tree, Pos)) != std::string::npos) {
          V.replace(Pos, Tree.size(), S.Root);
          Pos += S.Root.size();
        }
        return V;
      };
      for (json &E : Full) {
        std::string Rel = relTo(Tree, absolutePath(E.value("file", ""), E.value("directory", "")));
        if (!ScanRels.count(Rel))
          continue;
        json M2 = E;
        for (auto It = M2.begin(); It != M2.end(); ++It)
          if (It->is_string())
            *It = Move(It->get<std::string>());
          else if (It->is_array())
            for (json &A : *It)
              if (A.is_string())
                A = Move(A.get<std::string>());
        Db.push_back(M2);
      }
      std::string DbOut = Work + "/db-" + std::to_string(N + 1);
      llvm::sys::fs::create_directories(DbOut);
      if (!Write(DbOut + "/compile_commands.json", Db.dump(1)))
        return 2;
      std::string ScanOut = Work + "/rescan-" + std::to_string(N + 1);
      int SRC = run({Self, "scan", S.Root, "-p", DbOut, "-o", ScanOut, "--format", "json", "-j",
                     std::to_string(O.Jobs), "--cache-dir", Work + "/scan-cache"},
                    "", Log + ".rescan");
      json Re;
      std::string LE = (SRC == 0 || SRC == 1) ? loadScan(ScanOut + "/pageref.json", Re) : "exit " + std::to_string(SRC);
      if (!LE.empty()) {
        Clean = false;
        P.Checks["reanalysis"] = {{"ok", false}, {"error", "pageref scan of the patched tree failed: " + LE}};
      } else {
        std::set<std::pair<std::string, std::string>> Converted;
        for (size_t I : P.Sites)
          Converted.insert({relTo(Tree, Sites[I].File), Sites[I].Function});
        for (auto &[Rel, Fn] : Converted) {
          bool Seen = false;
          for (const json &C : Re["call_sites"])
            if (C.value("file", "") == Rel && C.value("function", "") == Fn) {
              Seen = true;
              Verdicts.push_back({{"file", Rel}, {"function", Fn}, {"line", C.value("line", 0)},
                                  {"callee", C.value("callee", "")}, {"verdict", C.value("verdict", "")},
                                  {"reason", C.value("reason", "")}});
              if (C.value("verdict", "") != "already-conditional" || C.value("callee", "") != "iov_iter_extract_pages")
                Clean = false;
            }
          if (!Seen) {
            Clean = false;
            Verdicts.push_back({{"file", Rel}, {"function", Fn}, {"verdict", "missing"}});
          }
        }
        std::multiset<std::string> Before;
        for (const json &F : OrigFindings)
          if (Rels.count(F.value("file", "")))
            Before.insert(findingKey(F));
        for (const json &F : Re["findings"]) {
          if (!Rels.count(F.value("file", "")))
            continue;
          auto It = Before.find(findingKey(F));
          if (It != Before.end()) {
            Before.erase(It);
            continue;
          }
          NewFindings.push_back(F);
          Clean = false;
        }
        P.Checks["reanalysis"] = {{"ok", Clean}, {"sites", Verdicts}, {"new_findings", NewFindings}};
      }
    }
    P.Passed = Applies && Built && NewW.empty() && CheckpatchOk && Clean;
  }

  // Outcomes.
  llvm::sys::fs::create_directories(OutDir);
  bool PrereqOk = !Prereq || Prereq->Passed;
  for (PatchFile &P : Patches) {
    bool Offered = P.Passed && (P.Prerequisite || PrereqOk);
    std::string Dir = Offered ? OutDir : OutDir + "/failed";
    llvm::sys::fs::create_directories(Dir);
    if (!Write(Dir + "/" + P.Name, P.Text))
      return 2;
    for (size_t I : P.Sites) {
      Status[I] = !O.Verify ? "unverified" : Offered ? "offered" : "failed-check";
      PatchOf[I] = (Offered ? "" : "failed/") + P.Name;
    }
    P.Checks["offered"] = Offered;
  }
  json Out = {{"schema", "pageref-convert"}, {"version", 1}, {"pageref_version", PAGEREF_VERSION},
              {"tree", Tree}, {"verified", O.Verify}};
  json PatchList = json::array();
  for (const PatchFile &P : Patches) {
    json J = {{"patch", (P.Checks.value("offered", !O.Verify) || !O.Verify ? "" : "failed/") + P.Name},
              {"files", P.Files},
              {"prerequisite", P.Prerequisite},
              {"checks", P.Checks}};
    json SiteRefs = json::array();
    for (size_t I : P.Sites)
      SiteRefs.push_back({{"file", relTo(Tree, Sites[I].File)}, {"line", Sites[I].Line},
                          {"function", Sites[I].Function}});
    J["sites"] = SiteRefs;
    PatchList.push_back(J);
  }
  Out["patches"] = PatchList;
  json SiteList = json::array();
  unsigned Offered = 0;
  for (size_t I = 0; I < Sites.size(); ++I) {
    json J = {{"file", relTo(Tree, Sites[I].File)}, {"line", Sites[I].Line}, {"column", Sites[I].Column},
              {"function", Sites[I].Function}, {"callee", Sites[I].Callee}, {"status", Status[I]}};
    if (Status[I] == "refused")
      J["reason"] = Results[I].Reason;
    else {
      J["patch"] = PatchOf[I];
      J["flag"] = Results[I].FlagHome;
      J["changes"] = Results[I].Done;
      J["author_checks"] = Results[I].AuthorChecks;
      if (Prereq)
        J["requires"] = Prereq->Name;
    }
    if (Status[I] == "offered")
      ++Offered;
    SiteList.push_back(J);
  }
  Out["sites"] = SiteList;
  if (!Write(OutDir + "/convert.json", Out.dump(2) + "\n"))
    return 2;

  // The reports: the scan with each extract-ready site's conversion.
  for (json &C : Scan["call_sites"])
    for (const json &J : SiteList)
      if (J["file"] == C["file"] && J["line"] == C["line"] && J["column"] == C["column"]) {
        json Conv = {{"status", J["status"]}};
        if (J.contains("patch"))
          Conv["patch"] = J["patch"];
        if (J.contains("reason"))
          Conv["reason"] = J["reason"];
        C["conversion"] = Conv;
      }
  if (std::string E = writeReports(Scan, {"json", "sarif", "html"}, OutDir, nullptr); !E.empty())
    return fail(E);
  if (std::getenv("PAGEREF_CONVERT_KEEP") == nullptr)
    llvm::sys::fs::remove_directories(Work);

  llvm::outs() << "pageref convert: " << Sites.size() << " extract-ready sites: " << Offered << " offered"
               << (O.Verify ? "" : " (unverified)") << ", "
               << llvm::count_if(Status, [](const std::string &S) { return S == "failed-check"; })
               << " failed a check, " << llvm::count(Status, std::string("refused")) << " refused; "
               << (O.Verify ? "" : "") << OutDir << "/convert.json\n";
  for (size_t I = 0; I < Sites.size(); ++I)
    llvm::outs() << "  " << relTo(Tree, Sites[I].File) << ":" << Sites[I].Line << " " << Sites[I].Function
                 << "(): " << Status[I]
                 << (Status[I] == "refused" ? ": " + Results[I].Reason : " (" + PatchOf[I] + ")") << "\n";
  return 0;
}

} // namespace pageref
