// The HTML conversion report: one self-contained file (inline CSS, JS and
// SVG, no network) that groups call sites and findings by the tree's
// MAINTAINERS subsystems. Rendered on the server side from the scan JSON and
// the tree, so it reads without JavaScript too; the script only filters.
#include "ReportInternal.h"

#include "pageref/Config.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <functional>
#include <map>
#include <set>

using nlohmann::json;

namespace pageref {
namespace report {
namespace {

const char *Css =
#include "report/report.css.inc"
    ;
const char *Js =
#include "report/report.js.inc"
    ;

const std::vector<std::string> KnownVerdicts = {"extract-ready", "needs-refs", "already-conditional", "unknown"};

const char *verdictHelp(const std::string &V) {
  if (V == "extract-ready") return "can move to iov_iter_extract_pages()";
  if (V == "needs-refs") return "an owner drops references on its own schedule";
  if (V == "already-conditional") return "the release already tests the pin";
  return "not decided: the reason says what is missing";
}

std::string esc(llvm::StringRef S) {
  std::string Out;
  for (char C : S) {
    switch (C) {
    case '&': Out += "&amp;"; break;
    case '<': Out += "&lt;"; break;
    case '>': Out += "&gt;"; break;
    case '"': Out += "&quot;"; break;
    default: Out += C;
    }
  }
  return Out;
}
// Only for json itself: a std::string must not convert to json and back.
template <typename J> std::enable_if_t<std::is_same_v<J, json>, std::string> esc(const J &V) {
  return esc(llvm::StringRef(V.template get_ref<const std::string &>()));
}
std::string num(size_t N) { return std::to_string(N); }

/// The source files of the tree, read once.
class Sources {
public:
  explicit Sources(std::string Tree) : Tree(std::move(Tree)) {}
  /// The file's lines, or null with \p Why set.
  const std::vector<std::string> *lines(const std::string &File, std::string &Why) {
    auto It = Cache.find(File);
    if (It == Cache.end()) {
      Entry E;
      llvm::SmallString<256> P;
      if (llvm::sys::path::is_absolute(File))
        P = File;
      else {
        P = Tree;
        llvm::sys::path::append(P, File);
      }
      auto Buf = llvm::MemoryBuffer::getFile(P);
      if (!Buf) {
        E.Why = std::string(P) + ": " + Buf.getError().message();
      } else {
        llvm::SmallVector<llvm::StringRef> L;
        (*Buf)->getBuffer().split(L, '\n');
        for (llvm::StringRef X : L)
          E.Lines.push_back(X.rtrim("\r").str());
        E.Ok = true;
      }
      It = Cache.emplace(File, std::move(E)).first;
    }
    Why = It->second.Why;
    return It->second.Ok ? &It->second.Lines : nullptr;
  }

private:
  struct Entry {
    bool Ok = false;
    std::vector<std::string> Lines;
    std::string Why;
  };
  std::string Tree;
  std::map<std::string, Entry> Cache;
};

/// A line to mark in an excerpt: a gutter label and what happens there.
struct Mark {
  std::string File;
  int64_t Line;
  std::string Label;
  std::string Text;
};

/// Source excerpts with the marked lines, a file at a time (the item's own
/// file first), two lines of context, the message under each marked line.
std::string excerpts(Sources &Src, const std::string &MainFile, const std::vector<Mark> &Marks) {
  std::vector<std::string> Files{MainFile};
  for (const Mark &M : Marks)
    if (!llvm::is_contained(Files, M.File))
      Files.push_back(M.File);
  std::sort(Files.begin() + 1, Files.end());
  std::string Out;
  const int64_t Context = 2;
  for (const std::string &File : Files) {
    std::map<int64_t, std::vector<const Mark *>> At;
    for (const Mark &M : Marks)
      if (M.File == File)
        At[M.Line].push_back(&M);
    if (At.empty())
      continue;
    Out += "<div class=src><div class=file>" + esc(File) + "</div>";
    std::string Why;
    const std::vector<std::string> *L = Src.lines(File, Why);
    if (!L) {
      Out += "<div class=\"missing file\">source not available: " + esc(Why) + "</div></div>";
      continue;
    }
    std::set<int64_t> Shown; // each marked line with its context
    for (auto &[Line, Ms] : At)
      for (int64_t N = std::max<int64_t>(1, Line - Context); N <= Line + Context && N <= int64_t(L->size()); ++N)
        Shown.insert(N);
    Out += "<table>";
    int64_t Last = 0;
    for (int64_t N : Shown) {
      if (Last && N != Last + 1)
        Out += "<tr class=gap><td colspan=3>&#8943;</td></tr>";
      Last = N;
      auto MIt = At.find(N);
      if (MIt == At.end()) {
        Out += "<tr><td class=ln>" + std::to_string(N) + "</td><td class=mk></td><td>" + esc((*L)[N - 1]) +
               "</td></tr>";
        continue;
      }
      std::string Labels;
      for (const Mark *M : MIt->second)
        Labels += (Labels.empty() ? "" : ",") + M->Label;
      Out += "<tr class=hl><td class=ln>" + std::to_string(N) + "</td><td class=mk>" + esc(Labels) + "</td><td>" +
             esc((*L)[N - 1]) + "</td></tr>";
      for (const Mark *M : MIt->second)
        Out += "<tr class=msg><td></td><td class=mk>" + esc(M->Label) + "</td><td>" + esc(M->Text) + "</td></tr>";
    }
    for (auto &[Line, Ms] : At)
      if (Line > int64_t(L->size()) || Line < 1)
        Out += "<tr class=gap><td colspan=3>line " + std::to_string(Line) + " is not in the file (" +
               std::to_string(L->size()) + " lines): has the tree changed since the scan?</td></tr>";
    Out += "</table></div>";
  }
  return Out;
}

std::string where(const json &L) {
  return L["file"].get<std::string>() + ":" + std::to_string(L["line"].get<int64_t>());
}

std::string listOf(const json &Items, const std::function<std::string(const json &)> &Fmt) {
  if (Items.empty())
    return "<span class=missing>none</span>";
  std::string Out = "<ul>";
  for (const json &I : Items)
    Out += "<li>" + Fmt(I) + "</li>";
  return Out + "</ul>";
}

std::string evidence(const json &E) {
  return esc(E["message"]) + " <span class=where>" + esc(where(E)) + "</span>";
}

std::string callSite(const json &C, const std::string &Slug, Sources &Src) {
  std::string V = C["verdict"];
  std::string Out = "<article class=\"item callsite\" data-subsystem=\"" + Slug + "\" data-verdict=\"" + esc(V) +
                    "\" data-check=\"pageref-get-pages-caller\" data-file=\"" + esc(C["file"]) + "\">";
  Out += "<div class=head><span class=\"badge v-" + esc(V) + "\">" + esc(V) + "</span><b><code>" +
         esc(C["function"]) + "()</code></b> calls <code>" + esc(C["callee"]) + "()</code><span class=where>" +
         esc(where(C)) + ":" + std::to_string(C["column"].get<int64_t>()) + "</span></div>";
  Out += "<p class=reason>" + esc(C["reason"]) + "</p>";
  // `pageref convert` adds each extract-ready site's draft patch and status.
  if (C.contains("conversion") && C["conversion"].is_object()) {
    const json &K = C["conversion"];
    std::string St = K.value("status", std::string());
    Out += "<p class=conversion>conversion: <span class=\"badge k-" + esc(St) + "\">" + esc(St) + "</span>";
    if (K.contains("patch"))
      Out += " <a href=\"" + esc(K["patch"]) + "\"><code>" + esc(K["patch"]) + "</code></a>";
    if (K.contains("reason"))
      Out += " " + esc(K["reason"]);
    Out += "</p>";
  }
  Out += "<details><summary>Evidence and source</summary><dl class=facts>";
  std::string Kinds;
  for (const json &K : C["iter_kinds"])
    Kinds += "<span class=kind>" + esc(K) + "</span>";
  Out += "<dt>iterator kinds</dt><dd>" + (Kinds.empty() ? "<span class=missing>none</span>" : Kinds) +
         listOf(C["iter_evidence"], evidence) + "</dd>";
  if (!C["iter_stops"].empty())
    Out += "<dt>kinds not followed</dt><dd>" + listOf(C["iter_stops"], evidence) + "</dd>";
  Out += "<dt>pages go to</dt><dd>" + listOf(C["sinks"], [](const json &S) {
           return "<b>" + esc(S["owner"]) + "</b> via <code>" + esc(S["via"]) + "</code> in <code>" +
                  esc(S["in_function"]) + "()</code> <span class=where>" + esc(where(S)) + "</span>";
         }) + "</dd>";
  Out += "<dt>released by</dt><dd>" + listOf(C["releases"], [](const json &R) {
           std::string S = "<code>" + esc(R["function"]) + "()</code> (" + esc(R["family"]) + ") in <code>" +
                           esc(R["in_function"]) + "()</code>, " + esc(R["route"]);
           if (R["conditional"].get<bool>())
             S += ", only if <code>" + esc(R.value("condition", std::string())) + "</code>" +
                  (R.value("kind_conditional", false) ? " (iterator kind / pin state)" : "");
           return S + " <span class=where>" + esc(where(R)) + "</span>";
         }) + "</dd>";
  if (!C["flow_stops"].empty())
    Out += "<dt>pages not followed</dt><dd>" + listOf(C["flow_stops"], evidence) + "</dd>";
  if (C.contains("async") && C["async"].is_object()) {
    const json &A = C["async"];
    std::string W = A.value("wait", std::string());
    Out += "<dt>async owner</dt><dd>completion <code>" + esc(A["completion"]) + "()</code> via " + esc(A["via"]) +
           " <span class=where>" + esc(where(A)) + "</span>; " +
           (W.empty() ? std::string("no wait found on the submitting path") : "waited for by " + esc(W)) + "</dd>";
  }
  Out += "</dl>";

  std::vector<Mark> Marks;
  const std::string File = C["file"];
  Marks.push_back({File, C["line"], "call", C["callee"].get<std::string>() + "(): " + V});
  for (const json &E : C["iter_evidence"])
    Marks.push_back({E["file"], E["line"], "kinds", E["message"]});
  for (const json &E : C["iter_stops"])
    Marks.push_back({E["file"], E["line"], "stop", E["message"]});
  for (const json &S : C["sinks"])
    Marks.push_back({S["file"], S["line"], "sink",
                     "pages go to " + S["owner"].get<std::string>() + " via " + S["via"].get<std::string>()});
  for (const json &R : C["releases"])
    Marks.push_back({R["file"], R["line"], "release",
                     R["function"].get<std::string>() + "() in " + R["in_function"].get<std::string>() + "() (" +
                         R["family"].get<std::string>() + ", " + R["route"].get<std::string>() + ")"});
  for (const json &E : C["flow_stops"])
    Marks.push_back({E["file"], E["line"], "stop", E["message"]});
  if (C.contains("async") && C["async"].is_object())
    Marks.push_back({C["async"]["file"], C["async"]["line"], "async",
                     "completion " + C["async"]["completion"].get<std::string>() + "() wired here"});
  Out += excerpts(Src, File, Marks);
  return Out + "</details></article>";
}

std::string finding(const json &F, const std::string &Slug, Sources &Src) {
  std::string Sev = F["severity"];
  std::string State = F.value("baseline", std::string());
  std::string Out = "<article class=\"item finding\" data-subsystem=\"" + Slug + "\" data-check=\"" +
                    esc(F["check"]) + "\" data-baseline=\"" + esc(State) + "\" data-file=\"" + esc(F["file"]) +
                    "\">";
  Out += "<div class=head><span class=\"badge c-" + esc(Sev) + "\">" + esc(Sev) + "</span>";
  if (!State.empty())
    Out += "<span class=\"badge b-" + esc(State) + "\">" + esc(State) + "</span>";
  Out += "<b><code>" + esc(F["check"]) + "</code></b> in <code>" + esc(F["function"]) + "()</code><span class=where>" +
         esc(where(F)) + ":" + std::to_string(F["column"].get<int64_t>()) + "</span></div>";
  Out += "<p class=reason>" + esc(F["message"]) + "</p>";
  const json &Notes = F["notes"];
  std::vector<Mark> Marks;
  Out += "<ol class=steps>";
  for (size_t I = 0; I < Notes.size(); ++I) {
    Out += "<li>" + esc(Notes[I]["message"]) + " <span class=where>" + esc(where(Notes[I])) + "</span></li>";
    Marks.push_back({Notes[I]["file"], Notes[I]["line"], std::to_string(I + 1), Notes[I]["message"]});
  }
  Out += "<li><b>reported here</b> <span class=where>" + esc(where(F)) + "</span></li></ol>";
  Marks.push_back({F["file"], F["line"], std::to_string(Notes.size() + 1), F["message"]});
  for (const json &X : F["fixes"]) {
    Out += "<p>fix-it: replace " + esc(where(X)) + ":" + std::to_string(X["column"].get<int64_t>()) + "&ndash;" +
           std::to_string(X["end_line"].get<int64_t>()) + ":" + std::to_string(X["end_column"].get<int64_t>()) +
           " with <code>" + esc(X["replacement"]) + "</code></p>";
    Marks.push_back({X["file"], X["line"], "fix", "replace with '" + X["replacement"].get<std::string>() + "'"});
  }
  if (F.contains("cross_tu") && !F["cross_tu"].empty()) {
    Out += "<p>decided with summaries of other translation units:</p>" +
           listOf(F["cross_tu"], [](const json &X) {
             return "<code>" + esc(X["function"]) + "()</code> in " + esc(X["file"]) + ": " + esc(X["effect"]);
           });
  }
  Out += "<details open><summary>Path on the source</summary>" + excerpts(Src, F["file"], Marks) + "</details>";
  return Out + "</article>";
}

/// A horizontal bar chart: one labelled bar per row, lengths to scale.
std::string barChart(const std::string &Title, const std::vector<std::tuple<std::string, std::string, size_t>> &Rows) {
  size_t Max = 1;
  for (auto &R : Rows)
    Max = std::max(Max, std::get<2>(R));
  const int W = 360, LabelW = 170, RowH = 24, BarW = W - LabelW - 40;
  int H = int(Rows.size()) * RowH + 4;
  std::string Out = "<svg width=\"" + num(W) + "\" height=\"" + num(H) + "\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                    "\" role=img aria-label=\"" + esc(Title) + "\"><title>" + esc(Title) + "</title>";
  int Y = 2;
  for (auto &[Label, Class, N] : Rows) {
    int Len = N ? std::max(2, int(BarW * N / Max)) : 0;
    Out += "<text x=\"0\" y=\"" + num(Y + 16) + "\">" + esc(Label) + "</text>";
    Out += "<rect class=track x=\"" + num(LabelW) + "\" y=\"" + num(Y + 4) + "\" width=\"" + num(BarW) +
           "\" height=\"14\" rx=\"2\"/>";
    if (Len)
      Out += "<rect class=\"" + Class + "\" x=\"" + num(LabelW) + "\" y=\"" + num(Y + 4) + "\" width=\"" + num(Len) +
             "\" height=\"14\" rx=\"2\"/>";
    Out += "<text x=\"" + num(LabelW + BarW + 6) + "\" y=\"" + num(Y + 16) + "\">" + num(N) + "</text>";
    Y += RowH;
  }
  return Out + "</svg>";
}

/// One stacked bar of a subsystem's call sites by verdict.
std::string stackedBar(const std::map<std::string, size_t> &ByVerdict, size_t Max) {
  const int W = 160;
  std::string Out = "<svg width=\"" + num(W) + "\" height=\"12\" viewBox=\"0 0 " + num(W) + " 12\" aria-hidden=true>";
  Out += "<rect class=track x=\"0\" y=\"1\" width=\"" + num(W) + "\" height=\"10\" rx=\"2\"/>";
  int X = 0;
  for (const std::string &V : KnownVerdicts) {
    auto It = ByVerdict.find(V);
    if (It == ByVerdict.end() || !It->second)
      continue;
    int Len = std::max(2, int(W * It->second / std::max<size_t>(Max, 1)));
    Out += "<rect class=\"v-" + V + "\" x=\"" + num(X) + "\" y=\"1\" width=\"" + num(Len) + "\" height=\"10\"/>";
    X += Len;
  }
  return Out + "</svg>";
}

struct Group {
  std::string Name, Slug;
  const Subsystem *Entry = nullptr;
  std::vector<const json *> Sites, Findings;
  std::map<std::string, size_t> Verdicts;
};

std::string counted(const std::string &Key, size_t N) {
  return "<b class=\"count" + std::string(N ? "" : " zero") + "\" data-key=\"" + esc(Key) + "\">" + num(N) + "</b>";
}

} // namespace

std::string toHtml(const ReportDoc &D) {
  const json &S = D.Scan;
  const std::string Tree = S["tree"];
  bool HaveTree = llvm::sys::fs::is_directory(Tree);
  Maintainers M;
  std::string MaintErr = HaveTree ? M.load(Tree) : "the tree is not available";
  Sources Src(Tree);

  // Group by subsystem, in the order of their names.
  std::map<std::string, Group> Groups;
  auto GroupOf = [&](const std::string &File) -> Group & {
    const Subsystem *E = MaintErr.empty() ? M.lookup(File) : nullptr;
    std::string Name = E ? E->Name : MaintErr.empty() ? "(no MAINTAINERS entry)" : "(MAINTAINERS not available)";
    Group &G = Groups[Name];
    G.Name = Name;
    G.Entry = E;
    return G;
  };
  std::map<std::string, size_t> Verdicts, Checks, States;
  for (const json &C : S["call_sites"]) {
    Group &G = GroupOf(C["file"]);
    G.Sites.push_back(&C);
    ++G.Verdicts[C["verdict"]];
    ++Verdicts[C["verdict"]];
  }
  for (const json &F : S["findings"]) {
    GroupOf(F["file"]).Findings.push_back(&F);
    ++Checks[F["check"]];
    if (F.contains("baseline"))
      ++States[F["baseline"]];
  }
  // Slugs from the names, so that a link to one subsystem's part
  // (pageref.html#subsystem=fuse-filesystem-in-userspace) stays valid.
  size_t MaxSites = 1;
  std::set<std::string> Slugs;
  for (auto &[Name, G] : Groups) {
    std::string Slug;
    for (char C : Name)
      if (llvm::isAlnum(C))
        Slug += llvm::toLower(C);
      else if (!Slug.empty() && Slug.back() != '-')
        Slug += '-';
    while (!Slug.empty() && Slug.back() == '-')
      Slug.pop_back();
    if (Slug.empty())
      Slug = "none";
    std::string Unique = Slug;
    for (int N = 2; !Slugs.insert(Unique).second; ++N)
      Unique = Slug + "-" + std::to_string(N);
    G.Slug = Unique;
    MaxSites = std::max(MaxSites, G.Sites.size());
  }
  size_t Failed = 0;
  for (const json &U : S["translation_units"])
    Failed += U["status"] != "ok";

  std::string H = "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
                  "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
                  // Nothing may come from the network: a CSP that allows only what is inline.
                  "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'; "
                  "script-src 'unsafe-inline'; img-src data:\">";
  H += "<title>pageref conversion report: " + esc(Tree) + "</title><style>" + Css + "</style></head><body>\n";
  H += "<header class=top><h1>Page-reference conversion report</h1><div class=meta>tree <code>" + esc(Tree) +
       "</code> &middot; pageref " + esc(S["pageref_version"]) + " &middot; API model " + esc(S["api_model"]) +
       " &middot; checks <code>" + esc(S["checks"]) + "</code> &middot; " + counted("tus", S["translation_units"].size()) +
       " translation units, " + counted("tus-failed", Failed) + " not analysed</div>";
  if (!HaveTree)
    H += "<div class=banner>The kernel tree <code>" + esc(Tree) +
         "</code> is not on this machine: no source excerpts and no MAINTAINERS subsystems. Render the report "
         "again where the tree is (<code>pageref report pageref.json</code>).</div>";
  else if (!MaintErr.empty())
    H += "<div class=banner>" + esc(MaintErr) + ": call sites are not grouped by subsystem.</div>";
  H += "</header>\n";

  // Filters.
  H += "<nav class=filters><div class=filters-inner><label>Subsystem<select id=f-subsystem><option value=\"\">all (" +
       num(Groups.size()) + ")</option>";
  for (auto &[Name, G] : Groups)
    H += "<option value=\"" + G.Slug + "\">" + esc(Name) + " (" + num(G.Sites.size()) + "/" + num(G.Findings.size()) +
         ")</option>";
  H += "</select></label><label>Verdict<select id=f-verdict><option value=\"\">all</option>";
  std::vector<std::string> VerdictOrder = KnownVerdicts;
  for (auto &[V, N] : Verdicts)
    if (!llvm::is_contained(VerdictOrder, V))
      VerdictOrder.push_back(V);
  for (const std::string &V : VerdictOrder)
    if (Verdicts.count(V))
      H += "<option value=\"" + esc(V) + "\">" + esc(V) + " (" + num(Verdicts[V]) + ")</option>";
  H += "</select></label><label>Check<select id=f-check><option value=\"\">all</option>"
       "<option value=\"pageref-get-pages-caller\">pageref-get-pages-caller (" +
       num(S["call_sites"].size()) + ")</option>";
  for (auto &[C, N] : Checks)
    H += "<option value=\"" + esc(C) + "\">" + esc(C) + " (" + num(N) + ")</option>";
  H += "</select></label>";
  if (D.HasBaseline) {
    H += "<label>Baseline<select id=f-baseline><option value=\"\">all</option>";
    for (const char *St : {"new", "known"})
      H += "<option value=\"" + std::string(St) + "\">" + St + " (" + num(States[St]) + ")</option>";
    H += "</select></label>";
  }
  H += "<span id=shown>showing <b id=shown-sites>" + num(S["call_sites"].size()) + "</b> of " +
       num(S["call_sites"].size()) + " call sites, <b id=shown-findings>" + num(S["findings"].size()) + "</b> of " +
       num(S["findings"].size()) + " findings</span></div></nav>\n<main>";

  // Overview: totals and charts, then what the verdicts mean, in one screen
  // row so that the subsystem table starts above the fold at 1280x800.
  H += "<section class=overview><div class=card><h3>get-pages call sites</h3><div class=big>" +
       counted("callsites", S["call_sites"].size()) + "</div>";
  std::vector<std::tuple<std::string, std::string, size_t>> Bars;
  for (const std::string &V : VerdictOrder)
    Bars.emplace_back(V, "v-" + V, Verdicts.count(V) ? Verdicts[V] : 0);
  H += barChart("Call sites by verdict", Bars);
  H += "</div><div class=card><h3>findings</h3><div class=big>" + counted("findings", S["findings"].size()) + "</div>";
  Bars.clear();
  for (const CheckInfo &C : checks())
    if (llvm::StringRef(C.Name) != "pageref-get-pages-caller")
      Bars.emplace_back(llvm::StringRef(C.Name).drop_front(8).str(), "c-warning",
                        Checks.count(C.Name) ? Checks[C.Name] : 0);
  for (auto &[C, N] : Checks)
    if (!findCheck(C))
      Bars.emplace_back(C, "c-warning", N);
  H += barChart("Findings by check", Bars);
  H += "<div class=meta>";
  for (auto &[C, N] : Checks)
    H += counted("check:" + C, N) + " " + esc(C) + " &nbsp; ";
  if (D.HasBaseline)
    H += "<br>baseline: " + counted("baseline:new", States["new"]) + " new, " +
         counted("baseline:known", States["known"]) + " known, " + counted("baseline:fixed", D.Fixed.size()) +
         " fixed";
  H += "</div></div><div class=card><h3>verdicts</h3><table class=legend>";
  for (const std::string &V : VerdictOrder)
    H += "<tr><td><span class=\"swatch v-" + esc(V) + "\"></span></td><td class=n>" +
         counted("verdict:" + V, Verdicts.count(V) ? Verdicts[V] : 0) + "</td><td><b>" + esc(V) + "</b> " +
         verdictHelp(V) + "</td></tr>";
  H += "</table><div class=meta>" + counted("subsystems", Groups.size()) + " subsystems from " +
       (MaintErr.empty() ? std::string("MAINTAINERS (F:/X:, the most specific entry wins)") : esc(MaintErr)) +
       "</div></div></section>\n";

  H += "<h2>Per subsystem<span class=meta>pick a row for its call sites (with evidence and source) and findings "
       "(with their path as numbered steps)</span></h2><table class=subsys><tr><th>subsystem</th><th>call sites by verdict</th><th></th>"
       "<th class=n>findings</th><th>send a conversion to</th></tr>";
  for (auto &[Name, G] : Groups) {
    // The bar for the eye, the numbers of the verdicts it has for the record.
    std::string ByVerdict;
    for (const std::string &V : VerdictOrder)
      if (G.Verdicts.count(V))
        ByVerdict += (ByVerdict.empty() ? "" : ", ") + counted(G.Slug + ":" + V, G.Verdicts[V]) + " " + esc(V);
    H += "<tr class=pick data-subsystem=\"" + G.Slug + "\"><td>" + esc(Name) + "</td><td>" +
         stackedBar(G.Verdicts, MaxSites) + "</td><td class=meta>" + ByVerdict + "</td><td class=n>" + counted(G.Slug + ":findings", G.Findings.size()) + "</td><td class=meta>";
    if (G.Entry) {
      std::vector<std::string> To;
      for (const std::string &P : G.Entry->Maintainers)
        To.push_back(llvm::StringRef(P).split(" <").first.str());
      H += esc(llvm::join(To, ", "));
      if (!G.Entry->Lists.empty())
        H += "; " + esc(llvm::StringRef(G.Entry->Lists[0]).split(' ').first);
    }
    H += "</td></tr>";
  }
  H += "</table>\n<div id=details>";

  for (auto &[Name, G] : Groups) {
    H += "<section class=subsystem data-subsystem=\"" + G.Slug + "\"><header><h2>" + esc(Name) + "</h2>";
    if (G.Entry) {
      H += "<div class=people>";
      if (!G.Entry->Maintainers.empty())
        H += "<div><span class=k>To:</span> " + esc(llvm::join(G.Entry->Maintainers, ", ")) + "</div>";
      if (!G.Entry->Lists.empty())
        H += "<div><span class=k>Cc:</span> " + esc(llvm::join(G.Entry->Lists, ", ")) + "</div>";
      if (!G.Entry->Status.empty())
        H += "<div class=meta>status: " + esc(G.Entry->Status) + "</div>";
      H += "</div>";
    }
    H += "</header>";
    if (!G.Findings.empty()) {
      H += "<div class=group>";
      for (const json *F : G.Findings)
        H += finding(*F, G.Slug, Src);
      H += "</div>";
    }
    if (!G.Sites.empty()) {
      H += "<div class=group>";
      for (const json *C : G.Sites)
        H += callSite(*C, G.Slug, Src);
      H += "</div>";
    }
    H += "</section>\n";
  }
  H += "</div>";

  if (D.HasBaseline && !D.Fixed.empty()) {
    H += "<section id=fixed><h2>Fixed since the baseline (" + counted("fixed", D.Fixed.size()) + ")</h2><ul>";
    for (const json &F : D.Fixed) {
      H += "<li><span class=\"badge b-fixed\">fixed</span> <code>" + esc(F["fingerprint"]) + "</code>";
      if (F.contains("message"))
        H += " " + esc(F["check"]) + " in <code>" + esc(F["function"]) + "()</code> <span class=where>" +
             esc(where(F)) + "</span>: " + esc(F["message"]);
      H += "</li>";
    }
    H += "</ul></section>";
  }
  if (Failed) {
    H += "<section id=failed><h2>Translation units not analysed</h2><ul>";
    for (const json &U : S["translation_units"])
      if (U["status"] != "ok")
        H += "<li><code>" + esc(U["file"]) + "</code>: " + esc(U.value("error", std::string("failed"))) +
             (U.contains("reproducer") ? "<br><code>" + esc(U["reproducer"]) + "</code>" : std::string()) + "</li>";
    H += "</ul></section>";
  }
  H += "<p class=meta>Written by <code>pageref report</code> from the scan's JSON and the tree; formats in "
       "docs/reports.md of pageref's sources.</p></main>\n<script>" +
       std::string(Js) + "</script></body></html>\n";
  return H;
}

} // namespace report
} // namespace pageref
