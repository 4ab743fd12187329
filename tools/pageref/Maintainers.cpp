// The tree's MAINTAINERS file, read the way scripts/get_maintainer.pl reads it,
// so that the report groups call sites the way a patch would be routed.
#include "ReportInternal.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>

namespace pageref {
namespace report {
namespace {

/// Does the glob \p P ('*' any run of characters, '/' included; '?' one
/// character) match a prefix of \p S? get_maintainer.pl turns a pattern into
/// an unanchored-at-the-end regex, so "fs/fuse/" covers everything below it.
bool globPrefix(const char *P, const char *S) {
  for (; *P; ++P, ++S) {
    if (*P == '*') {
      for (const char *T = S;; ++T) {
        if (globPrefix(P + 1, T))
          return true;
        if (!*T)
          return false;
      }
    }
    if (!*S || (*P != '?' && *P != *S))
      return false;
  }
  return true;
}

size_t slashes(const std::string &S) { return std::count(S.begin(), S.end(), '/'); }

/// get_maintainer.pl's file_match_pattern(): a directory pattern covers the
/// subtree, a file pattern only names at its own depth.
bool matches(const std::string &Pattern, const std::string &File) {
  if (!globPrefix(Pattern.c_str(), File.c_str()))
    return false;
  return Pattern.back() == '/' || slashes(Pattern) == slashes(File);
}

/// How specific a pattern is, as get_maintainer.pl ranks them: its depth,
/// one more for a file than for a directory, and the catch-alls ("*", "*/")
/// below everything.
int depth(const std::string &Pattern) {
  if (Pattern[0] == '*')
    return -1;
  return int(slashes(Pattern)) + (Pattern.back() == '/' ? 0 : 1);
}

size_t literalChars(const std::string &P) {
  return P.size() - std::count(P.begin(), P.end(), '*') - std::count(P.begin(), P.end(), '?');
}

} // namespace

std::string Maintainers::load(const std::string &TreeDir) {
  Tree = TreeDir;
  Entries.clear();
  llvm::SmallString<256> Path(Tree);
  llvm::sys::path::append(Path, "MAINTAINERS");
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return std::string(Path) + ": " + Buf.getError().message();
  llvm::StringRef Text = (*Buf)->getBuffer();
  std::string Title;
  bool InEntry = false;
  while (!Text.empty()) {
    llvm::StringRef Line;
    std::tie(Line, Text) = Text.split('\n');
    Line = Line.rtrim();
    if (Line.empty()) {
      Title.clear();
      InEntry = false;
      continue;
    }
    bool Field = Line.size() >= 2 && Line[0] >= 'A' && Line[0] <= 'Z' && Line[1] == ':' &&
                 (Line.size() == 2 || Line[2] == '\t' || Line[2] == ' ');
    if (!Field) {
      // The preamble's examples are indented; a title starts in column 1.
      if (Line[0] != ' ' && Line[0] != '\t')
        Title = Line.str();
      InEntry = false;
      continue;
    }
    if (!InEntry) {
      if (Title.empty())
        continue;
      Entries.push_back(Subsystem{Title, {}, {}, {}, {}, {}});
      InEntry = true;
    }
    Subsystem &E = Entries.back();
    std::string Value = Line.drop_front(2).trim().str();
    if (Value.empty())
      continue;
    switch (Line[0]) {
    case 'M': E.Maintainers.push_back(Value); break;
    case 'L': E.Lists.push_back(Value); break;
    case 'S': E.Status = Value; break;
    case 'F':
    case 'X': {
      // A directory named without its slash is still a directory pattern.
      llvm::SmallString<256> Dir(Tree);
      llvm::sys::path::append(Dir, Value);
      if (Value.back() != '/' && Value.find_first_of("*?") == std::string::npos &&
          llvm::sys::fs::is_directory(Dir))
        Value += '/';
      (Line[0] == 'F' ? E.Files : E.Excludes).push_back(Value);
      break;
    }
    default: break;
    }
  }
  if (Entries.empty())
    return std::string(Path) + ": no entries found";
  return "";
}

const Subsystem *Maintainers::lookup(const std::string &File) const {
  const Subsystem *Best = nullptr;
  int BestDepth = -2;
  size_t BestLiteral = 0;
  for (const Subsystem &E : Entries) {
    if (std::any_of(E.Excludes.begin(), E.Excludes.end(),
                    [&](const std::string &X) { return matches(X, File); }))
      continue;
    for (const std::string &F : E.Files) {
      if (!matches(F, File))
        continue;
      int D = depth(F);
      // Ties go to the more literal pattern, then to the earlier entry.
      if (D > BestDepth || (D == BestDepth && literalChars(F) > BestLiteral)) {
        Best = &E;
        BestDepth = D;
        BestLiteral = literalChars(F);
      }
    }
  }
  return Best;
}

} // namespace report
} // namespace pageref
