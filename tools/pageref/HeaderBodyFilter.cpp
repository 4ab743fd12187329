#include "HeaderBodyFilter.h"

#include "clang/AST/Decl.h"
#include "clang/AST/TypeLoc.h"
#include "clang/Basic/CharInfo.h"

namespace pageref {

HeaderBodyFilter::HeaderBodyFilter(const clang::SourceManager &SM, const std::vector<std::string> &TrackedNames)
    : SM(SM) {
  for (const std::string &N : TrackedNames)
    Tracked.insert(N);
}

namespace {

struct Token {
  enum Kind { Ident, Open, Close, LParen, RParen, Semi, Other } K;
  unsigned Offset;
  llvm::StringRef Text;
};

/// Identifiers, braces and parentheses of a C file, outside comments,
/// string and character literals. Preprocessor lines are lexed like code:
/// the bodies of function-like macros are balanced in practice, and a file
/// where they are not is caught by the balance check.
std::vector<Token> lex(llvm::StringRef T) {
  std::vector<Token> Out;
  size_t I = 0, N = T.size();
  while (I < N) {
    char C = T[I];
    if (C == '/' && I + 1 < N && T[I + 1] == '/') {
      while (I < N && T[I] != '\n')
        ++I;
    } else if (C == '/' && I + 1 < N && T[I + 1] == '*') {
      size_t E = T.find("*/", I + 2);
      I = E == llvm::StringRef::npos ? N : E + 2;
    } else if (C == '"' || C == '\'') {
      ++I;
      while (I < N && T[I] != C && T[I] != '\n') {
        if (T[I] == '\\')
          ++I;
        ++I;
      }
      ++I;
    } else if (clang::isAsciiIdentifierStart(C)) {
      size_t B = I;
      while (I < N && clang::isAsciiIdentifierContinue(T[I]))
        ++I;
      Out.push_back({Token::Ident, unsigned(B), T.slice(B, I)});
    } else if (clang::isDigit(C)) {
      while (I < N && (clang::isAsciiIdentifierContinue(T[I]) || T[I] == '.'))
        ++I;
    } else {
      Token::Kind K = C == '{' ? Token::Open : C == '}' ? Token::Close : C == '(' ? Token::LParen
                    : C == ')' ? Token::RParen : C == ';' ? Token::Semi : Token::Other;
      if (K != Token::Other)
        Out.push_back({K, unsigned(I), T.slice(I, I + 1)});
      ++I;
    }
  }
  return Out;
}

} // namespace

const HeaderBodyFilter::FileBlocks &HeaderBodyFilter::blocksOf(clang::FileID FID) {
  auto It = Files.find(FID);
  if (It != Files.end())
    return It->second;
  FileBlocks &FB = Files[FID];
  std::optional<llvm::StringRef> Buf = SM.getBufferDataOrNone(FID);
  if (!Buf) {
    FB.Reliable = false;
    return FB;
  }
  std::vector<Token> Toks = lex(*Buf);
  // Top-level blocks, the identifiers in each, and the name of the function
  // a block is the body of (the identifier before the last top-level '('
  // that precedes it).
  struct Raw {
    unsigned Open, Close;
    std::string Name;
    std::vector<llvm::StringRef> Idents;
  };
  std::vector<Raw> Raws;
  int Depth = 0, Parens = 0;
  llvm::StringRef LastIdent, Candidate;
  for (const Token &Tk : Toks) {
    switch (Tk.K) {
    case Token::Ident:
      if (Depth > 0)
        Raws.back().Idents.push_back(Tk.Text);
      LastIdent = Tk.Text;
      break;
    case Token::LParen:
      if (Depth == 0 && Parens == 0)
        Candidate = LastIdent;
      ++Parens;
      break;
    case Token::RParen:
      --Parens;
      break;
    case Token::Semi:
      if (Depth == 0)
        Candidate = "";
      break;
    case Token::Open:
      if (Depth++ == 0)
        Raws.push_back({Tk.Offset, 0, Candidate.str(), {}});
      break;
    case Token::Close:
      if (--Depth == 0) {
        Raws.back().Close = Tk.Offset;
        Candidate = "";
      }
      if (Depth < 0)
        FB.Reliable = false;
      break;
    default:
      break;
    }
    if (!FB.Reliable)
      break;
  }
  if (Depth != 0)
    FB.Reliable = false;
  if (!FB.Reliable)
    return FB;
  // Tracked bodies, to a fixpoint: a header function that calls a tracked
  // one is tracked too.
  std::vector<bool> IsTracked(Raws.size(), false);
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (size_t I = 0; I < Raws.size(); ++I) {
      if (IsTracked[I])
        continue;
      for (llvm::StringRef Id : Raws[I].Idents)
        if (Tracked.count(Id)) {
          IsTracked[I] = Changed = true;
          if (!Raws[I].Name.empty())
            Tracked.insert(Raws[I].Name);
          break;
        }
    }
  }
  for (size_t I = 0; I < Raws.size(); ++I) {
    FB.Blocks.push_back({Raws[I].Open, Raws[I].Close, IsTracked[I]});
    FB.AnyTracked |= IsTracked[I];
  }
  return FB;
}

bool HeaderBodyFilter::skip(const clang::Decl *D) {
  clang::SourceLocation Loc = D->getLocation();
  if (Loc.isInvalid() || SM.isInMainFile(SM.getExpansionLoc(Loc)))
    return false;
  if (Loc.isMacroID()) {
    // A function written by a macro (page-flags.h, the atomics): its body
    // is spelled in the macro's definition, right after the declarator.
    // Where that cannot be located (token pasting) it is skipped: no macro
    // of that kind builds a function that handles page references.
    const auto *FD = llvm::dyn_cast<clang::FunctionDecl>(D);
    if (!FD || !FD->getTypeSourceInfo())
      return countSkip();
    Loc = SM.getSpellingLoc(FD->getTypeSourceInfo()->getTypeLoc().getEndLoc());
    if (Loc.isInvalid() || !SM.getFileEntryRefForID(SM.getFileID(Loc)))
      return countSkip();
  }
  auto [FID, Offset] = SM.getDecomposedLoc(Loc);
  const FileBlocks &FB = blocksOf(FID);
  if (!FB.Reliable)
    return false;
  // The body is the first top-level block that opens after the name.
  auto It = std::upper_bound(FB.Blocks.begin(), FB.Blocks.end(), Offset,
                             [](unsigned O, const Block &B) { return O < B.Open; });
  if (It == FB.Blocks.end())
    return false;
  if (It->Tracked)
    return false;
  return countSkip();
}

} // namespace pageref
