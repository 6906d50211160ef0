// `pinpipe lake ls|cat|rm`: look at (and tidy) the object store that
// lake.url names: a local folder or an S3 bucket.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "pinpipe/base/gzip.h"
#include "pinpipe/objstore/object_store.h"

namespace pinpipe::app {
namespace {

struct LakeFlags {
  std::vector<std::string> keys;
  std::string prefix;
  bool long_format = false;
  bool raw = false;
  bool recursive = false;
};

Result<std::unique_ptr<objstore::ObjectStore>> OpenLake(const Config& config) {
  return objstore::OpenObjectStore(config.Get("lake.url"), config);
}

Status List(const Config& config, const LakeFlags& f) {
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenLake(config));
  std::string token;
  do {
    PINPIPE_ASSIGN_OR_RETURN(auto page, store->List(f.prefix, token, 1000));
    for (const auto& o : page.objects) {
      if (f.long_format) {
        std::cout << o.size << "\t" << o.modified_ms << "\t" << o.key << "\n";
      } else {
        std::cout << o.key << "\n";
      }
    }
    token = page.next_token;
  } while (!token.empty());
  return Status::Ok();
}

Status Cat(const Config& config, const LakeFlags& f) {
  if (f.keys.empty()) return InvalidArgumentError("lake cat: give at least one KEY");
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenLake(config));
  for (const auto& key : f.keys) {
    PINPIPE_ASSIGN_OR_RETURN(std::string data, store->Get(key));
    if (!f.raw && key.ends_with(".gz")) {
      PINPIPE_ASSIGN_OR_RETURN(data, Gunzip(data));
    }
    std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  std::cout.flush();
  return Status::Ok();
}

Status Remove(const Config& config, const LakeFlags& f) {
  PINPIPE_ASSIGN_OR_RETURN(auto store, OpenLake(config));
  std::vector<std::string> keys = f.keys;
  if (f.recursive) {
    if (f.prefix.empty()) return InvalidArgumentError("lake rm --recursive needs --prefix");
    PINPIPE_ASSIGN_OR_RETURN(auto all, store->ListAll(f.prefix));
    for (const auto& o : all) keys.push_back(o.key);
  }
  if (keys.empty()) return InvalidArgumentError("lake rm: give KEYs or --prefix P --recursive");
  for (const auto& key : keys) PINPIPE_RETURN_IF_ERROR(store->Delete(key));
  std::cerr << "removed " << keys.size() << " object(s)\n";
  return Status::Ok();
}

}  // namespace

void RegisterLakeCommands(CLI::App& app, CommandContext& ctx) {
  auto* lake = app.add_subcommand("lake", "Look at the object store (lake.url)");
  lake->require_subcommand(1);
  auto flags = std::make_shared<LakeFlags>();

  auto* ls = lake->add_subcommand(
      "ls", "List objects in key order.\nExample: pinpipe lake ls topics/0a60b9a8a831.pin/ -l");
  ctx.BindFlag(ls, "--store", "lake.url", "Object store URL: file:///path or s3://bucket/prefix");
  ls->add_option("PREFIX", flags->prefix, "Key prefix");
  ls->add_flag("-l,--long", flags->long_format, "Show size and modification time (ms)");
  ctx.SetAction(ls, [flags](const Config& c) { return List(c, *flags); });

  auto* cat =
      lake->add_subcommand("cat",
                           "Print objects (.gz objects are decompressed unless --raw).\n"
                           "Example: pinpipe lake cat topics/t/partition=0/t+0+0000000000.json");
  ctx.BindFlag(cat, "--store", "lake.url", "Object store URL");
  cat->add_option("KEY", flags->keys, "Object keys")->required();
  cat->add_flag("--raw", flags->raw, "Print stored bytes as they are");
  ctx.SetAction(cat, [flags](const Config& c) { return Cat(c, *flags); });

  auto* rm = lake->add_subcommand(
      "rm", "Delete objects.\nExample: pinpipe lake rm --prefix topics/old/ --recursive");
  ctx.BindFlag(rm, "--store", "lake.url", "Object store URL");
  rm->add_option("KEY", flags->keys, "Object keys");
  rm->add_option("--prefix", flags->prefix, "With --recursive: every object under this prefix");
  rm->add_flag("-r,--recursive", flags->recursive, "Delete everything under --prefix");
  ctx.SetAction(rm, [flags](const Config& c) { return Remove(c, *flags); });
}

}  // namespace pinpipe::app
