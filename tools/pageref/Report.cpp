// `pageref report`: renders the JSON of a scan (or of several, merged) as
// text, JSON, SARIF and HTML without parsing any source again. The writers
// are shared with `pageref scan --format`. Everything is sorted and free of
// time stamps, so the same input gives byte-identical files.
#include "Report.h"
#include "Layout.h"
#include "ReportInternal.h"

#include "pageref/Config.h"
#include "pageref/Facts.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using nlohmann::json;

namespace pageref {

/// The entry of \p Table called \p Name (its Name field), or null.
template <class T> static const T *byName(const std::vector<T> &Table, const std::string &Name) {
  for (const T &E : Table)
    if (Name == E.Name)
      return &E;
  return nullptr;
}

namespace report {

const std::vector<CheckInfo> &checks() {
  static const std::vector<CheckInfo> All = {
      {"pageref-get-pages-caller", "docs/checks/get-pages-caller.md",
       "A call of iov_iter_get_pages2() / iov_iter_get_pages_alloc2(): what reaches it, where the pages go, "
       "how they are released, and whether it can move to iov_iter_extract_pages().",
       "Every get-pages call site with the iterator kinds that reach it and why, the owners the pages are "
       "handed to, the calls that release them, and a verdict: extract-ready (can become "
       "iov_iter_extract_pages() with a conditional release), needs-refs (the pages go to an owner that drops "
       "references on its own schedule), already-conditional, or unknown (the reason says what is missing). "
       "An inventory for conversion work, not a defect."},
      {"pageref-unbalanced-release", "docs/checks/unbalanced-release.md",
       "Page references acquired and, on some path out of the function, neither released nor handed off; "
       "or released twice.",
       "The notes give the path: where the references were acquired, the branches taken, and the exit that "
       "leaks them. Release the pages on that path (put_page()/unpin_user_pages() matching how they were "
       "acquired) or hand them to an owner before returning."},
      {"pageref-release-mismatch", "docs/checks/release-mismatch.md",
       "Pages released with the wrong family: pins put, references unpinned, or iov_iter_extract_pages() "
       "pages released without testing iov_iter_extract_will_pin().",
       "FOLL_PIN pages must be released with unpin_user_page(s)(), FOLL_GET pages with put_page(); pages of "
       "iov_iter_extract_pages() only when iov_iter_extract_will_pin() says they were pinned. The fix-its "
       "replace 1:1 calls."},
      {"pageref-async-bvec-drop", "docs/checks/async-bvec-drop.md",
       "An ITER_BVEC iterator over owned pages submitted to an async ->read_iter()/->write_iter() and its "
       "pages or bio_vec array dropped on a path where the result may be -EIOCBQUEUED.",
       "After -EIOCBQUEUED the I/O still uses the pages and the bio_vec array; drop them in the completion "
       "(ki_complete) instead, or only when the call did not return -EIOCBQUEUED."},
  };
  return All;
}

const CheckInfo *findCheck(const std::string &Name) { return byName(checks(), Name); }

std::string digest16(const std::vector<std::string> &Parts) {
  llvm::SHA256 H;
  for (const std::string &P : Parts) {
    H.update(P);
    H.update(llvm::StringRef("\0", 1));
  }
  auto D = H.final();
  return llvm::toHex(llvm::ArrayRef<uint8_t>(D.data(), 8), /*LowerCase=*/true);
}

} // namespace report

namespace {

using report::ReportDoc;

// ---- validation -------------------------------------------------------------

enum class T { Str, Int, Bool, Arr, Obj, StrArr };

bool isType(const json &V, T Ty) {
  switch (Ty) {
  case T::Str: return V.is_string();
  case T::Int: return V.is_number_integer();
  case T::Bool: return V.is_boolean();
  case T::Arr: return V.is_array();
  case T::Obj: return V.is_object();
  case T::StrArr:
    return V.is_array() && std::all_of(V.begin(), V.end(), [](const json &E) { return E.is_string(); });
  }
  return false;
}

const char *typeName(T Ty) {
  switch (Ty) {
  case T::Str: return "a string";
  case T::Int: return "an integer";
  case T::Bool: return "true or false";
  case T::Arr: return "an array";
  case T::Obj: return "an object";
  case T::StrArr: return "an array of strings";
  }
  return "?";
}

using Fields = std::vector<std::pair<const char *, T>>;

/// The first field of \p O that is missing or of the wrong type, as
/// "WHERE: 'KEY' must be ...", or empty.
std::string checkFields(const json &O, const Fields &Required, const std::string &Where) {
  if (!O.is_object())
    return Where + ": must be an object";
  for (const auto &[Key, Ty] : Required) {
    auto It = O.find(Key);
    if (It == O.end())
      return Where + ": '" + Key + "' is missing";
    if (!isType(*It, Ty))
      return Where + ": '" + Key + "' must be " + typeName(Ty);
  }
  return "";
}

std::string checkEach(const json &Arr, const Fields &Required, const std::string &Where) {
  for (size_t I = 0; I < Arr.size(); ++I)
    if (std::string E = checkFields(Arr[I], Required, Where + "[" + std::to_string(I) + "]"); !E.empty())
      return E;
  return "";
}

const Fields EvidenceFields = {{"file", T::Str}, {"line", T::Int}, {"message", T::Str}};

std::string checkCallSite(const json &C, const std::string &W) {
  std::string E = checkFields(C, {{"file", T::Str}, {"line", T::Int}, {"column", T::Int}, {"function", T::Str},
                                  {"callee", T::Str}, {"iter_kinds", T::StrArr}, {"iter_evidence", T::Arr},
                                  {"iter_stops", T::Arr}, {"sinks", T::Arr}, {"releases", T::Arr},
                                  {"flow_stops", T::Arr}, {"verdict", T::Str}, {"reason", T::Str}},
                              W);
  if (E.empty()) E = checkEach(C["iter_evidence"], EvidenceFields, W + ".iter_evidence");
  if (E.empty()) E = checkEach(C["iter_stops"], EvidenceFields, W + ".iter_stops");
  if (E.empty()) E = checkEach(C["flow_stops"], EvidenceFields, W + ".flow_stops");
  if (E.empty())
    E = checkEach(C["sinks"], {{"file", T::Str}, {"line", T::Int}, {"owner", T::Str}, {"via", T::Str},
                               {"in_function", T::Str}},
                  W + ".sinks");
  if (E.empty())
    E = checkEach(C["releases"], {{"file", T::Str}, {"line", T::Int}, {"function", T::Str}, {"family", T::Str},
                                  {"in_function", T::Str}, {"route", T::Str}, {"conditional", T::Bool}},
                  W + ".releases");
  if (E.empty() && C.contains("async") && !C["async"].is_null())
    E = checkFields(C["async"], {{"file", T::Str}, {"line", T::Int}, {"completion", T::Str}, {"via", T::Str}},
                    W + ".async");
  return E;
}

std::string checkFinding(const json &F, const std::string &W) {
  std::string E = checkFields(F, {{"check", T::Str}, {"severity", T::Str}, {"file", T::Str}, {"line", T::Int},
                                  {"column", T::Int}, {"function", T::Str}, {"message", T::Str},
                                  {"notes", T::Arr}, {"fixes", T::Arr}, {"fingerprint", T::Str}},
                              W);
  if (E.empty() && F["severity"] != "warning" && F["severity"] != "remark")
    E = W + ": 'severity' must be \"warning\" or \"remark\"";
  if (E.empty())
    E = checkEach(F["notes"], {{"file", T::Str}, {"line", T::Int}, {"column", T::Int}, {"message", T::Str}},
                  W + ".notes");
  if (E.empty())
    E = checkEach(F["fixes"], {{"file", T::Str}, {"line", T::Int}, {"column", T::Int}, {"end_line", T::Int},
                               {"end_column", T::Int}, {"replacement", T::Str}},
                  W + ".fixes");
  if (E.empty() && F.contains("cross_tu")) {
    if (!F["cross_tu"].is_array())
      E = W + ": 'cross_tu' must be an array";
    else
      E = checkEach(F["cross_tu"], {{"function", T::Str}, {"file", T::Str}, {"effect", T::Str}}, W + ".cross_tu");
  }
  if (E.empty() && F.contains("baseline") && F["baseline"] != "new" && F["baseline"] != "known")
    E = W + ": 'baseline' must be \"new\" or \"known\"";
  return E;
}

std::string validateScan(const json &D) {
  if (!D.is_object())
    return "not a pageref scan: the top level is not a JSON object";
  if (!D.contains("schema") || !D["schema"].is_string())
    return "not a pageref scan: no \"schema\" (expected \"pageref-scan\" version 1)";
  if (D["schema"] != "pageref-scan")
    return "not a pageref scan: schema \"" + D["schema"].get<std::string>() +
           "\" (expected \"pageref-scan\" version 1; docs/scan-schema.md)";
  if (!D.contains("version") || !D["version"].is_number_integer())
    return "schema pageref-scan without an integer \"version\"";
  if (D["version"] != 1)
    return "schema pageref-scan version " + D["version"].dump() + " is not known to pageref " PAGEREF_VERSION
           " (it reads version 1)";
  std::string E = checkFields(D, {{"pageref_version", T::Str}, {"api_model", T::Str}, {"checks", T::Str},
                                  {"tree", T::Str}, {"translation_units", T::Arr}, {"call_sites", T::Arr},
                                  {"findings", T::Arr}, {"summaries", T::Arr}},
                              "top level");
  if (E.empty())
    E = checkEach(D["translation_units"], {{"file", T::Str}, {"status", T::Str}}, "translation_units");
  for (size_t I = 0; E.empty() && I < D["call_sites"].size(); ++I)
    E = checkCallSite(D["call_sites"][I], "call_sites[" + std::to_string(I) + "]");
  for (size_t I = 0; E.empty() && I < D["findings"].size(); ++I)
    E = checkFinding(D["findings"][I], "findings[" + std::to_string(I) + "]");
  if (E.empty())
    E = checkEach(D["summaries"], {{"function", T::Str}}, "summaries");
  return E;
}

/// Reads and parses a JSON file; errors name the file.
std::string readJson(const std::string &Path, json &Out) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return Path + ": cannot read: " + Buf.getError().message();
  try {
    Out = json::parse((*Buf)->getBuffer().begin(), (*Buf)->getBuffer().end());
  } catch (const json::parse_error &Ex) {
    // "[json.exception.parse_error.101] parse error at line 3, ..." -> the part after "] ".
    std::string What = Ex.what();
    size_t P = What.find("] ");
    return Path + ": not valid JSON: " + (P == std::string::npos ? What : What.substr(P + 2));
  }
  return "";
}

// ---- merging and baselines --------------------------------------------------

std::string str(const json &O, const char *Key) {
  auto It = O.find(Key);
  return It != O.end() && It->is_string() ? It->get<std::string>() : std::string();
}
int64_t num(const json &O, const char *Key) {
  auto It = O.find(Key);
  return It != O.end() && It->is_number_integer() ? It->get<int64_t>() : 0;
}

/// Sorts by the documented keys, then by the whole record, and drops
/// records that are identical (the same TU in two inputs).
template <typename KeyFn> void sortUnique(json &Arr, KeyFn Key) {
  std::vector<json> Items(Arr.begin(), Arr.end());
  std::vector<size_t> Order(Items.size());
  std::vector<std::string> Dumps;
  std::vector<decltype(Key(Items[0]))> K;
  for (size_t I = 0; I < Items.size(); ++I) {
    Order[I] = I;
    Dumps.push_back(Items[I].dump());
    K.push_back(Key(Items[I]));
  }
  std::sort(Order.begin(), Order.end(), [&](size_t A, size_t B) {
    if (K[A] != K[B])
      return K[A] < K[B];
    return Dumps[A] < Dumps[B];
  });
  json Out = json::array();
  for (size_t I = 0; I < Order.size(); ++I)
    if (I == 0 || Dumps[Order[I]] != Dumps[Order[I - 1]])
      Out.push_back(std::move(Items[Order[I]]));
  Arr = std::move(Out);
}

void sortScan(json &S) {
  if (!S["translation_units"].empty())
    sortUnique(S["translation_units"], [](const json &U) { return str(U, "file"); });
  if (!S["call_sites"].empty())
    sortUnique(S["call_sites"], [](const json &C) {
      return std::make_tuple(str(C, "file"), num(C, "line"), num(C, "column"));
    });
  if (!S["findings"].empty())
    sortUnique(S["findings"], [](const json &F) {
      return std::make_tuple(str(F, "file"), num(F, "line"), num(F, "column"), str(F, "check"), str(F, "message"));
    });
  if (!S["summaries"].empty())
    sortUnique(S["summaries"], [](const json &U) { return str(U, "function"); });
}

/// Several scans of one tree (shards, or scans of different parts) as one.
std::string mergeScans(const std::vector<json> &Scans, const std::vector<std::string> &Paths, json &Out) {
  Out = Scans[0];
  std::set<std::string> Checks{Out["checks"].get<std::string>()};
  for (size_t I = 1; I < Scans.size(); ++I) {
    const json &S = Scans[I];
    for (const char *Key : {"tree", "api_model", "pageref_version"})
      if (S[Key] != Out[Key])
        return Paths[I] + ": cannot be merged with " + Paths[0] + ": different \"" + Key + "\" (" +
               S[Key].get<std::string>() + " vs " + Out[Key].get<std::string>() + ")";
    Checks.insert(S["checks"].get<std::string>());
    for (const char *Key : {"translation_units", "call_sites", "findings", "summaries"})
      for (const json &E : S[Key])
        Out[Key].push_back(E);
  }
  Out["checks"] = llvm::join(Checks, ",");
  sortScan(Out);
  return "";
}

std::string loadBaseline(const std::string &Path, json &Out) {
  json D;
  if (std::string E = readJson(Path, D); !E.empty())
    return E;
  // A whole earlier scan works too, and then the fixed findings keep their text.
  if (D.is_object() && D.contains("schema") && D["schema"] == "pageref-scan")
    return loadScan(Path, Out);
  if (!D.is_object() || !D.contains("schema") || D["schema"] != "pageref-baseline")
    return Path + ": not a pageref baseline (expected schema \"pageref-baseline\" version 1, or a "
                  "\"pageref-scan\"; docs/scan-schema.md)";
  if (!D.contains("version") || D["version"] != 1)
    return Path + ": schema pageref-baseline version " + (D.contains("version") ? D["version"].dump() : "(none)") +
           " is not known to pageref " PAGEREF_VERSION " (it reads version 1)";
  if (!D.contains("fingerprints") || !isType(D["fingerprints"], T::StrArr))
    return Path + ": 'fingerprints' must be an array of strings";
  Out = std::move(D);
  return "";
}

ReportDoc makeDoc(const json &Scan, const json *Baseline, const std::string &DocsUri) {
  ReportDoc D;
  D.Scan = Scan;
  D.DocsUri = DocsUri;
  for (const json &F : Scan["findings"])
    D.HasBaseline |= F.contains("baseline");
  if (!Baseline)
    return D;
  D.HasBaseline = true;
  std::map<std::string, json> Old; // fingerprint -> what the baseline knows of it
  if (Baseline->value("schema", "") == "pageref-scan") {
    for (const json &F : (*Baseline)["findings"])
      Old.emplace(F["fingerprint"].get<std::string>(), F);
  } else {
    for (const json &FP : Baseline->value("fingerprints", json::array()))
      if (FP.is_string())
        Old.emplace(FP.get<std::string>(), json{{"fingerprint", FP}});
  }
  std::set<std::string> Now;
  for (json &F : D.Scan["findings"]) {
    std::string FP = F["fingerprint"];
    Now.insert(FP);
    F["baseline"] = Old.count(FP) ? "known" : "new";
  }
  for (auto &[FP, F] : Old)
    if (!Now.count(FP)) {
      json G = F;
      G.erase("baseline");
      D.Fixed.push_back(std::move(G));
    }
  return D;
}

std::string percentEncode(llvm::StringRef S) {
  std::string Out;
  for (unsigned char C : S) {
    if (llvm::isAlnum(C) || llvm::StringRef("-._~/!$&'()*+,;=:@").contains(C))
      Out += C;
    else
      Out += "%" + llvm::utohexstr(C, /*LowerCase=*/false, /*Width=*/2);
  }
  return Out;
}

/// Where the docs pages of this pageref are: PREFIX/share/doc/pageref of an
/// install, the sources' docs/ for a build-tree pageref.
std::string defaultDocsUri() { return "file://" + percentEncode(layout::docsDir()) + "/"; }

} // namespace

namespace report {
std::string fileUri(const std::string &AbsPath) { return "file://" + percentEncode(AbsPath); }
std::string relativeUri(const std::string &Path) { return percentEncode(Path); }
} // namespace report

std::string loadScan(const std::string &Path, json &Out) {
  json D;
  if (std::string E = readJson(Path, D); !E.empty())
    return E;
  if (std::string E = validateScan(D); !E.empty())
    return Path + ": " + E;
  Out = std::move(D);
  return "";
}

const std::vector<ReportFormat> &reportFormats() {
  static const std::vector<ReportFormat> Formats = {{"text", "pageref.txt"},
                                                    {"json", "pageref.json"},
                                                    {"sarif", "pageref.sarif"},
                                                    {"html", "pageref.html"},
                                                    {"codequality", "pageref.codequality.json"}};
  return Formats;
}

const ReportFormat *findFormat(const std::string &Name) { return byName(reportFormats(), Name); }

std::string checkFormats(const std::vector<std::string> &Formats) {
  for (const std::string &F : Formats)
    if (!findFormat(F)) {
      std::string Known;
      for (const ReportFormat &K : reportFormats())
        Known += (Known.empty() ? "" : ", ") + std::string(K.Name);
      return "unknown report format '" + F + "' (" + Known + ")";
    }
  return "";
}

std::string writeReports(const json &Scan, const std::vector<std::string> &Formats, const std::string &OutDir,
                         const json *Baseline, const std::string &DocsUri) {
  if (std::string E = checkFormats(Formats); !E.empty())
    return E;
  // The writers read the fields the schema promises; a scan built in memory
  // (pageref scan) is held to the same check as a file.
  if (std::string E = validateScan(Scan); !E.empty())
    return "the scan to report on: " + E;
  if (Baseline && Baseline->value("schema", "") == "pageref-scan")
    if (std::string E = validateScan(*Baseline); !E.empty())
      return "the baseline scan: " + E;
  if (std::error_code EC = llvm::sys::fs::create_directories(OutDir))
    return OutDir + ": cannot create directory: " + EC.message();
  ReportDoc D = makeDoc(Scan, Baseline, DocsUri.empty() ? defaultDocsUri() : DocsUri);
  for (const std::string &F : Formats) {
    llvm::SmallString<256> Path(OutDir);
    llvm::sys::path::append(Path, findFormat(F)->File);
    std::string E;
    if (F == "text")
      E = writeTextAtomically(report::toText(D), std::string(Path));
    else if (F == "json")
      E = writeJsonAtomically(D.Scan, std::string(Path));
    else if (F == "sarif")
      E = writeTextAtomically(report::toSarif(D).dump(2) + "\n", std::string(Path));
    else if (F == "html")
      E = writeTextAtomically(report::toHtml(D), std::string(Path));
    else
      E = writeTextAtomically(report::toCodeQuality(D).dump(2) + "\n", std::string(Path));
    if (!E.empty())
      return E;
  }
  return "";
}

namespace {

void usage(llvm::raw_ostream &OS) {
  OS << "usage: pageref report JSON... [-o OUT_DIR] [--format text,json,sarif,html,codequality]\n"
        "                      [--baseline FILE] [--docs-uri URI]\n"
        "\n"
        "Renders the pageref.json of `pageref scan` (or several, merged) without parsing anything\n"
        "again: OUT_DIR/pageref.txt (clang-tidy style), pageref.json, pageref.sarif (SARIF 2.1.0),\n"
        "pageref.html (one self-contained conversion report per MAINTAINERS subsystem) and\n"
        "pageref.codequality.json (GitLab's Code Quality report).\n"
        "  -o OUT_DIR        where to write (default: pageref-out)\n"
        "  --format LIST     which of text,json,sarif,html,codequality (default: text,json,sarif,html)\n"
        "  --baseline FILE   a pageref-baseline (or an earlier pageref.json): findings are marked\n"
        "                    new or known by fingerprint, and the fixed ones are listed\n"
        "  --docs-uri URI    where pageref's docs/ directory is published, for the SARIF rules'\n"
        "                    helpUri (default: file:// URI of the docs installed with this pageref)\n"
        "Formats: docs/reports.md.\n";
}

int fail(const std::string &Msg) {
  llvm::errs() << "pageref report: " << Msg << "\n";
  return 2;
}

} // namespace

int runReport(int Argc, char **Argv) {
  std::vector<std::string> Inputs, Formats;
  std::string OutDir = "pageref-out", BaselinePath, DocsUri, FormatList = "text,json,sarif,html";
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if (A == "-h" || A == "--help") {
      usage(llvm::outs());
      return 0;
    }
    if (A == "-o" || A == "--format" || A == "--baseline" || A == "--docs-uri") {
      if (I + 1 >= Argc)
        return fail(("option " + A + " needs a value").str());
      std::string V = Argv[++I];
      if (A == "-o") OutDir = V;
      else if (A == "--format") FormatList = V;
      else if (A == "--baseline") BaselinePath = V;
      else DocsUri = V;
    } else if (A.starts_with("-") && A != "-") {
      return fail(("unknown option '" + A + "' (pageref report --help)").str());
    } else {
      Inputs.push_back(A.str());
    }
  }
  if (Inputs.empty())
    return fail("give at least one pageref.json (pageref report --help)");
  llvm::SmallVector<llvm::StringRef> Parts;
  llvm::StringRef(FormatList).split(Parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef P : Parts)
    if (!llvm::is_contained(Formats, P.trim().str()))
      Formats.push_back(P.trim().str());
  if (Formats.empty())
    return fail("--format needs at least one of text,json,sarif,html,codequality");
  if (!DocsUri.empty() && DocsUri.back() != '/')
    DocsUri += '/';

  std::vector<json> Scans(Inputs.size());
  for (size_t I = 0; I < Inputs.size(); ++I)
    if (std::string E = loadScan(Inputs[I], Scans[I]); !E.empty())
      return fail(E);
  json Scan;
  if (Scans.size() == 1) {
    Scan = std::move(Scans[0]);
    sortScan(Scan); // a hand-edited or older file renders the same as a sorted one
  } else if (std::string E = mergeScans(Scans, Inputs, Scan); !E.empty()) {
    return fail(E);
  }
  json Baseline;
  if (!BaselinePath.empty())
    if (std::string E = loadBaseline(BaselinePath, Baseline); !E.empty())
      return fail(E);
  if (std::string E = writeReports(Scan, Formats, OutDir, BaselinePath.empty() ? nullptr : &Baseline, DocsUri);
      !E.empty())
    return fail(E);
  for (const std::string &F : Formats)
    llvm::outs() << "report: " << OutDir << "/" << findFormat(F)->File << "\n";
  return 0;
}

} // namespace pageref
