// The public entry points of ir/serialize.h: memory-mapped loading, atomic saving, and the
// no-exception boundary around the encoder and decoder (serialize_write.cpp, serialize_read.cpp).
#include "ir/serialize.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "ir/serialize_internal.h"

namespace qrt::ir {

namespace {

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes a file descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the error close() returns (a write may only fail there).
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Maps `path` read-only; the returned owner unmaps it when the last user lets go.
Result<std::pair<std::shared_ptr<const void>, std::size_t>> map_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; it is rejected below as not a regular file.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    return io_error("cannot open " + quoted(path) + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return io_error("cannot stat " + quoted(path) + ": " + errno_text(err));
  }
  if (S_ISDIR(st.st_mode)) return io_error(quoted(path) + " is a directory, not a model file");
  if (!S_ISREG(st.st_mode)) return io_error(quoted(path) + " is not a regular file");
  if (st.st_size == 0) return invalid_model(quoted(path) + " is empty (0 bytes)");
  const auto size = static_cast<std::size_t>(st.st_size);
  // MAP_PRIVATE + PROT_READ: the Graph sees the bytes as they were when mapped, as long as nobody
  // truncates the file underneath (which no portable API can guard against).
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    return io_error("cannot map " + quoted(path) + ": " + errno_text(err));
  }
  std::shared_ptr<const void> owner(
      addr, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return std::make_pair(std::move(owner), size);
}

Status write_all(int fd, const std::byte* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return io_error("cannot write " + quoted(path) + ": " + errno_text(err));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status write_file_atomically(const std::vector<std::byte>& bytes, const std::string& path) {
  const std::string tmp = path + ".tmp";
  FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    const int err = errno;
    return io_error("cannot create " + quoted(tmp) + " (to save " + quoted(path) +
                    "): " + errno_text(err));
  }
  Status s = write_all(fd.get(), bytes.data(), bytes.size(), tmp);
  if (s && ::fsync(fd.get()) != 0) {
    const int err = errno;
    s = io_error("cannot flush " + quoted(tmp) + ": " + errno_text(err));
  }
  if (fd.close_now() != 0 && s) {
    const int err = errno;
    s = io_error("cannot close " + quoted(tmp) + ": " + errno_text(err));
  }
  if (s && std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    s = io_error("cannot rename " + quoted(tmp) + " to " + quoted(path) + ": " + errno_text(err));
  }
  if (!s) ::unlink(tmp.c_str());
  return s;
}

// No exception crosses the API: allocation failures inside flatbuffers or std containers become
// a Status.
template <typename F>
auto without_exceptions(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return out_of_memory(std::string("out of memory while ") + what);
  } catch (const std::exception& e) {
    return internal_error(std::string("unexpected exception while ") + what + ": " + e.what());
  }
}

}  // namespace

Result<Graph> load_model_from_memory(const void* data, std::size_t size,
                                     std::shared_ptr<const void> owner) {
  return without_exceptions("loading a model", [&]() -> Result<Graph> {
    return serialize_detail::decode_model(static_cast<const std::byte*>(data), size,
                                          std::move(owner));
  });
}

Result<Graph> load_model_file(const std::string& path) {
  return without_exceptions("loading a model", [&]() -> Result<Graph> {
    QRT_ASSIGN_OR_RETURN(auto mapping, map_file(path));
    auto graph = serialize_detail::decode_model(static_cast<const std::byte*>(mapping.first.get()),
                                                mapping.second, mapping.first);
    if (!graph) return graph.status().with_context("loading " + quoted(path));
    return graph;
  });
}

Result<std::vector<std::byte>> serialize_model(const Graph& graph) {
  return without_exceptions("serializing a model", [&]() -> Result<std::vector<std::byte>> {
    const Status valid = verify(graph);
    if (!valid) return valid.with_context("refusing to serialize an invalid graph");
    return serialize_detail::encode_model(graph);
  });
}

Status save_model_file(const Graph& graph, const std::string& path) {
  return without_exceptions("saving a model", [&]() -> Status {
    auto bytes = serialize_model(graph);
    if (!bytes) return bytes.status().with_context("saving " + quoted(path));
    return write_file_atomically(*bytes, path);
  });
}

}  // namespace qrt::ir
