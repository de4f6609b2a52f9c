// SPDX-License-Identifier: Apache-2.0
// Registers `mpi_alltoallv` in the map_reduce family (mpi_alltoallv.hpp). Built in every preset:
// this side only starts mpirun and talks to it through pipes; the MPI program itself is built
// without sanitizers (patterns/map_reduce/mpi/CMakeLists.txt says why).
#include "patterns/map_reduce/mpi/mpi_alltoallv.hpp"
[[maybe_unused]] static const bool cpb_registered_mpi_alltoallv =
    ::cpb::detail::register_impl<::cpb::patterns::map_reduce::mpi::MpiFamily,
                                 ::cpb::patterns::map_reduce::mpi::MpiAlltoallv>(__FILE__,
                                                                                 __LINE__);
