#pragma once
// Task<T>: the coroutine type of the request path (Asio's awaitable). Only this header of
// http/ exposes Asio to other modules; Beast never leaves http/.
//
//   http::Task<void> serve_one(http::Request& req, http::Response& res);

#include <boost/asio/awaitable.hpp>

namespace sy::http {
template <class T = void>
using Task = boost::asio::awaitable<T>;
}  // namespace sy::http
