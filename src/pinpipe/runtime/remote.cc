#include "pinpipe/runtime/remote.h"

#include <curl/curl.h>

namespace pinpipe::runtime {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct Exchange {
  CURLcode rc = CURLE_OK;
  long http = 0;
  std::string body;
};

// One request with a 10 s timeout; POST with an empty body when `post`.
Result<Exchange> Perform(const std::string& url, bool post) {
  CURL* curl = curl_easy_init();
  if (!curl) return InternalError("curl_easy_init failed");
  Exchange out;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
  out.rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.http);
  curl_easy_cleanup(curl);
  return out;
}

}  // namespace

Result<std::string> TriggerRemoteRun(const Config& config, const std::string& dag) {
  const std::string url = "http://" + config.Get("api.listen") + "/api/runs/" + dag;
  PINPIPE_ASSIGN_OR_RETURN(Exchange x, Perform(url, true));
  if (x.rc == CURLE_COULDNT_CONNECT) return UnavailableError("no pinpipe up at " + url);
  if (x.rc != CURLE_OK) return UnavailableError(std::string(curl_easy_strerror(x.rc)));
  if (x.http == 404) return NotFoundError("no DAG named '" + dag + "'");
  if (x.http != 202) {
    return InternalError("trigger answered HTTP " + std::to_string(x.http) + ": " + x.body);
  }
  return x.body;
}

Result<PipelineAnswers> FetchPipelineAnswers(const Config& config, const std::string& base_url,
                                             bool live) {
  const std::string base = base_url.empty() ? "http://" + config.Get("api.listen") : base_url;
  const std::string url = base + (live ? "/api/answers/live" : "/api/results/latest");
  PINPIPE_ASSIGN_OR_RETURN(Exchange x, Perform(url, false));
  if (x.rc == CURLE_COULDNT_CONNECT) {
    return UnavailableError("no running pipeline answers at " + base +
                            " (start one with `pinpipe up`, or pass --url)");
  }
  if (x.rc != CURLE_OK) return UnavailableError(url + ": " + curl_easy_strerror(x.rc));
  PipelineAnswers out;
  out.doc = nlohmann::json::parse(x.body, nullptr, false);
  if (x.http != 200) {
    std::string message = out.doc.is_object() ? out.doc.value("message", x.body) : x.body;
    return x.http == 404 ? NotFoundError(message)
                         : FailedPreconditionError(url + " answered HTTP " +
                                                   std::to_string(x.http) + ": " + message);
  }
  out.body = std::move(x.body);
  return out;
}

}  // namespace pinpipe::runtime
