# SPDX-License-Identifier: Apache-2.0
#
# Sphinx configuration of cinderlib's documentation. 'make docs' builds it:
# doxygen first (doc/Doxyfile: the public headers into XML), then
#
#   sphinx-build -W --keep-going -b html doc/source build/docs/html
#
# The build needs no network: no intersphinx, nothing fetched.

import logging
import os
import re
import subprocess

_here = os.path.dirname(os.path.abspath(__file__))
_top = os.path.normpath(os.path.join(_here, '..', '..'))

with open(os.path.join(_top, 'VERSION'), encoding='utf-8') as f:
    _version = f.read().strip()

# openstackdocstheme asks pbr for the version, and pbr asks git (or the
# metadata of an installed package): tell it ours.
os.environ.setdefault('PBR_VERSION', _version)

# -- General ---------------------------------------------------------------

extensions = [
    'openstackdocstheme',
    'breathe',
]

project = 'cinderlib'
copyright = 'The cinderlib authors'
version = _version
release = _version

master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = []
# Blocks without a language (::) are shown as they are.
highlight_language = 'none'
primary_domain = 'c'
pygments_style = 'native'

# -- The API reference (breathe over doxygen's XML) --------------------------

# 'make docs' passes the XML directory; the default is where it puts it.
breathe_projects = {
    'cinderlib': os.environ.get(
        'CINDERLIB_DOXYGEN_XML',
        os.path.join(_top, 'build', 'docs', 'doxygen', 'xml')),
}
breathe_default_project = 'cinderlib'
breathe_domain_by_extension = {'h': 'c'}
breathe_default_members = ('members', 'undoc-members')
breathe_show_include = True
breathe_show_define_initializer = True
breathe_show_enumvalue_initializer = True

# C lets a struct tag and a function share a name, and two pairs of the
# API do (struct cl_backend_stats and cl_backend_stats(), struct
# cl_nbd_attach and cl_nbd_attach()); Sphinx's C domain has one namespace
# for both and calls the second one a duplicate. Only those two are let
# through: any other duplicate stays an error.
_SAME_NAME = {'cl_backend_stats', 'cl_nbd_attach'}


class _SameNameFilter(logging.Filter):
    _dup = re.compile(r"^Duplicate C declaration, .*"
                      r"Declaration is '\.\. c:\w+:: (.*)'\.$", re.S)

    def filter(self, record):
        m = self._dup.match(record.getMessage())
        if not m:
            return True
        name = re.search(r'(\w+)\s*(?:\(|$)', m.group(1))
        return not (name and name.group(1) in _SAME_NAME)


# -- HTML: the OpenStack theme -----------------------------------------------

html_theme = 'openstackdocs'
html_static_path = []
html_last_updated_fmt = '%Y-%m-%d %H:%M'

# openstackdocstheme 2.0 and later.
openstackdocs_repo_name = 'openstack/cinderlib'
openstackdocs_bug_project = 'cinderlib'
openstackdocs_bug_tag = ''
openstackdocs_auto_name = False
openstackdocs_auto_version = False
openstackdocs_use_storyboard = False


def _theme_version():
    try:
        from importlib import metadata
        return tuple(int(p) for p in
                     metadata.version('openstackdocstheme').split('.')[:2])
    except Exception:
        return (0, 0)


if _theme_version() < (2, 0):
    # The same settings under the names of openstackdocstheme 1.x
    # (Debian 12 has 1.20).
    repository_name = openstackdocs_repo_name
    bug_project = openstackdocs_bug_project
    bug_tag = openstackdocs_bug_tag
    # It warns (an error under -W) when 'git rev-parse HEAD' fails, as in
    # a tree that is not a git checkout: give it the page context it
    # would have computed, without the commit.
    try:
        subprocess.run(['git', 'rev-parse', 'HEAD'], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        from openstackdocstheme import ext as _ext
        if getattr(_ext, '_html_context_data', 0) is None:
            _ext._html_context_data = {
                'gitsha': 'unknown',
                'giturl': _ext._giturl.format(repository_name, 'doc/source'),
                'bug_project': bug_project,
                'bug_tag': bug_tag,
            }


def setup(app):
    logging.getLogger('sphinx.sphinx.domains.c').addFilter(_SameNameFilter())
