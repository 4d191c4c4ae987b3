% Golden values of the classical metrics from their authors' MATLAB code (run by make_goldens.ts).
% Usage: octave -q --no-gui --path REFERENCES goldens.m LIST
% LIST has one case per line, "name<TAB>ref.png<TAB>dist.png". Prints one JSON object per line.
% MS-SSIM and GMSD get the luma of MATLAB's rgb2gray (its unrounded weights; Octave's own
% rgb2gray rounds them to six decimals): the *_octave_gray fields use Octave's, as scores.m does.
pkg load image
function s = num(x)
  if isempty(x) || (isreal(x) && isinf(x))
    s = 'null';
  elseif ~isreal(x)
    s = sprintf('{"re": %.17g, "im": %.17g}', real(x), imag(x));
  elseif isnan(x)
    s = '"NaN"';
  else
    s = sprintf('%.17g', x);
  end
end
function g = matlab_gray(img)
  img = double(img);
  g = uint8(0.298936021293775 * img(:,:,1) + 0.587043074451121 * img(:,:,2) + ...
            0.114020904255103 * img(:,:,3));
end
function s = tryrun(f)
  try
    s = num(f());
  catch err
    s = ['"error: ' strrep(err.message, '"', '''') '"'];
  end
end
args = argv();
fid = fopen(args{1});
line = fgetl(fid);
while ischar(line)
  parts = strsplit(line, "\t");
  r = imread(parts{2}); d = imread(parts{3});
  if ndims(r) == 2, r = cat(3, r, r, r); d = cat(3, d, d, d); end
  gr = matlab_gray(r); gd = matlab_gray(d);
  tic; [f, fc] = FeatureSIM(r, d); tf = toc;
  tic; [g, gmap] = GMSD(double(gr), double(gd)); tg = toc;
  if min(size(gr)) >= 176
    tic; m = tryrun(@() msssim(gr, gd)); tm = toc;
    mo = tryrun(@() msssim(rgb2gray(r), rgb2gray(d)));
  else
    m = 'null'; mo = 'null'; tm = 0;
  end
  go = GMSD(double(rgb2gray(r)), double(rgb2gray(d)));
  printf(['{"name": "%s", "fsim": %s, "fsimc": %s, "gmsd": %s, "msssim": %s, ' ...
          '"gmsd_map": {"h": %d, "w": %d, "sum": %s, "first": %s, "last": %s}, ' ...
          '"gmsd_octave_gray": %s, "msssim_octave_gray": %s, ' ...
          '"octave_seconds": {"fsim": %.4f, "gmsd": %.4f, "msssim": %.4f}}\n'], ...
         parts{1}, num(f), num(fc), num(g), m, rows(gmap), columns(gmap), num(sum(gmap(:))), ...
         num(gmap(1)), num(gmap(end)), num(go), mo, tf, tg, tm);
  fflush(stdout);
  line = fgetl(fid);
end
fclose(fid);
