// pageref: the command-line face of the engine.
//   pageref --version        version, and the LLVM the plugin is built for
//   pageref --plugin-path    absolute path of the clang-tidy plugin
//   pageref inventory ...    run the get-pages caller inventory over a compile database
#include "Convert.h"
#include "Inventory.h"
#include "Layout.h"
#include "Report.h"
#include "Scan.h"
#include "Worker.h"

#include "pageref/Config.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

static void usage(llvm::raw_ostream &OS) {
  OS << "usage: pageref --version | --plugin-path | scan | merge | report | baseline | check | convert | inventory [options]\n"
        "\n"
        "  --version        print pageref's version and the LLVM version it was built for\n"
        "  --plugin-path    print the absolute path of the clang-tidy plugin, for\n"
        "                   clang-tidy-19 --load=$(pageref --plugin-path) --checks='-*,pageref-*'\n"
        "  scan             whole-tree analysis for CI: all checks, cross-TU summaries, cache, baseline,\n"
        "                   shards (pageref scan --help)\n"
        "  merge            combine per-TU results of shards or of Kbuild's checker hook\n"
        "  report           render a scan's JSON as text, JSON, SARIF, HTML and GitLab Code Quality\n"
        "                   (pageref report --help)\n"
        "  baseline         write the fingerprints of a scan's findings, for scan --baseline\n"
        "  check            Kbuild's checker hook: make C=1 CHECK='pageref check -o DIR'\n"
        "  convert          a checked draft patch to iov_iter_extract_pages() for every extract-ready caller\n"
        "                   (pageref convert --help)\n"
        "  inventory        list every get-pages caller with its verdict through clang-tidy-19 and the plugin\n";
}

int main(int argc, char **argv) {
  pageref::layout::init(argv[0]);
  if (argc < 2) {
    usage(llvm::errs());
    return 2;
  }
  llvm::StringRef Cmd = argv[1];
  if (Cmd == "--version") {
    llvm::outs() << "pageref " << PAGEREF_VERSION << " (built for LLVM " << PAGEREF_LLVM_VERSION << ")\n";
    return 0;
  }
  if (Cmd == "--plugin-path") {
    std::string P = pageref::layout::plugin();
    if (!llvm::sys::fs::exists(P)) {
      llvm::errs() << "pageref: the plugin is not where it should be: " << P << " (rebuild or reinstall pageref)\n";
      return 2;
    }
    llvm::outs() << P << "\n";
    return 0;
  }
  if (Cmd == "--help" || Cmd == "-h") {
    usage(llvm::outs());
    return 0;
  }
  if (Cmd == "scan")
    return pageref::runScan(argc - 1, argv + 1, pageref::layout::self());
  if (Cmd == "report")
    return pageref::runReport(argc - 1, argv + 1);
  if (Cmd == "merge")
    return pageref::runMerge(argc - 1, argv + 1);
  if (Cmd == "baseline")
    return pageref::runBaseline(argc - 1, argv + 1);
  if (Cmd == "check")
    return pageref::runCheck(argc - 1, argv + 1);
  if (Cmd == "convert")
    return pageref::runConvert(argc - 1, argv + 1, llvm::sys::fs::getMainExecutable(argv[0], reinterpret_cast<void *>(&usage)));
  if (Cmd == "worker")
    return pageref::runWorker(argc - 1, argv + 1);
  if (Cmd == "inventory")
    return pageref::runInventory(argc - 1, argv + 1, pageref::layout::plugin());
  llvm::errs() << "pageref: unknown command '" << Cmd << "'\n";
  usage(llvm::errs());
  return 2;
}
