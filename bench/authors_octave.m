% Timing worker for bench/metrics_bench.ts: the authors' MATLAB code of FSIM/FSIMc, GMSD and
% MS-SSIM (on Octave's path, from the test data's metric-references/octave), called as their
% authors' scripts call them (docs/algorithm.md §12).
%
%   octave -q --no-gui --path REFS_OCTAVE bench/authors_octave.m
%
% Reads lines `METRIC<TAB>REF.png<TAB>DIST.png` on stdin (METRIC: fsim, fsimc, gmsd or msssim); for
% each prints `MILLISECONDS<TAB>SCORE`: tic/toc around the metric's call on the decoded images
% (grey conversion included, file reading and Octave's start not), or `error<TAB>MESSAGE`.
pkg load image
while true
  % One character at a time: fgetl(stdin) on a pipe waits for its end before returning a line.
  line = "";
  c = fread(stdin, 1, "char=>char");
  while ~isempty(c) && c ~= "\n"
    line = [line c];
    c = fread(stdin, 1, "char=>char");
  end
  if isempty(c), break; end
  parts = strsplit(line, "\t");
  try
    r = imread(parts{2}); d = imread(parts{3});
    if ndims(r) == 2, r = cat(3, r, r, r); d = cat(3, d, d, d); end
    switch parts{1}
      case "fsim"
        tic; [s, ~] = FeatureSIM(r, d); ms = toc * 1000;
      case "fsimc"
        tic; [~, s] = FeatureSIM(r, d); ms = toc * 1000;
      case "gmsd"
        tic; s = GMSD(double(rgb2gray(r)), double(rgb2gray(d))); ms = toc * 1000;
      case "msssim"
        tic; s = msssim(rgb2gray(r), rgb2gray(d)); ms = toc * 1000;
      otherwise
        error("unknown metric %s", parts{1});
    end
    printf("%.3f\t%.10g\n", ms, s);
  catch err
    printf("error\t%s\n", strrep(err.message, "\n", " "));
  end
  fflush(stdout);
end
