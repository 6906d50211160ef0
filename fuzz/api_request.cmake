pinpipe_fuzz_target(api_request DEPS pinpipe_api pinpipe_testing simdjson::simdjson)
