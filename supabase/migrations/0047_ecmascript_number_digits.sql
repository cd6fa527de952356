-- RFC 8785 numbers exactly as ECMAScript prints them (issue 17).
--
-- 0002's canonical_number took PostgreSQL's shortest float output (Ryu, extra_float_digits = 1).
-- That output never uses a bound of the double's rounding interval, while ECMAScript's
-- Number::toString takes any digits that read back as the same double (reading rounds half to
-- even, so a bound counts when the double's mantissa is even). Where the shortest digits lie
-- exactly on such a bound PostgreSQL printed one digit more: 9.999999999999999e+22 for 1e+23
-- (RFC 8785 Appendix B) and 52249941898300784 for 52249941898300780, about 1 double in 4,000. The
-- server then hashed other bytes than the workstation for the same JSON.
--
-- The fix keeps PostgreSQL's digits and tries to shorten them: the two numbers of one digit fewer
-- either side of them are read back as doubles (float8in rounds correctly, half to even, as
-- ECMAScript reads); one that reads back as the same double is the shorter form, and when both do,
-- the one nearer the longer digits is ECMAScript's choice. test/db/canonicalJson.test.ts compares
-- the result with JavaScript for RFC 8785 Appendix B and 200,000 random doubles.

-- Does the decimal text read back as |f|? float8in rounds correctly, half to even. Near the ends of
-- the double range a neighbour can overflow or underflow, which float8in raises for; only there is
-- the (slower) exception block entered.
create function cs_private.reads_back_as(decimal_text text, f double precision) returns boolean
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
begin
  if pg_catalog.abs(f) between 1e-307 and 1e308 then
    return decimal_text::double precision = pg_catalog.abs(f);
  end if;
  begin
    return decimal_text::double precision = pg_catalog.abs(f);
  exception when numeric_value_out_of_range then
    return false;
  end;
end
$$;

-- The shortest decimal digits of f (no leading or trailing zeros) and the position of the decimal
-- point: f = 0.<digits> x 10^point. f must be finite and not zero.
create function cs_private.shortest_double_digits(f double precision, out digits text, out point integer)
language plpgsql immutable strict parallel safe
set search_path = ''
set extra_float_digits = 1
as $$
declare
  s text := pg_catalog.abs(f)::text;  -- PostgreSQL's shortest round-trip digits (Ryu)
  mantissa text;
  exp10 integer := 0;
  int_part text;
  lead_zeros integer;
  k integer;
  down text;
  up text;
  down_point integer;
  up_point integer;
  down_ok boolean;
  up_ok boolean;
begin
  if position('e' in s) > 0 then
    mantissa := split_part(s, 'e', 1);
    exp10 := split_part(s, 'e', 2)::integer;
  else
    mantissa := s;
  end if;
  int_part := split_part(mantissa, '.', 1);
  digits := int_part || split_part(mantissa, '.', 2);
  point := length(int_part) + exp10;
  lead_zeros := length(digits) - length(ltrim(digits, '0'));
  digits := rtrim(ltrim(digits, '0'), '0');
  point := point - lead_zeros;

  -- A shorter form must lie exactly on a bound f +- ulp/2 (anything strictly inside, Ryu would have
  -- found). Below 2^53 a bound has an odd multiple of a negative power of two in it, so more than 17
  -- significant digits: only doubles of 2^53 and up can need this.
  loop
    k := length(digits);
    exit when k <= 1 or pg_catalog.abs(f) < 9007199254740992;
    -- The neighbours with k - 1 digits: truncated, and one unit of its last digit more.
    down := rtrim(left(digits, k - 1), '0');
    down_point := point;
    up := (left(digits, k - 1)::numeric + 1)::text;
    up_point := point + (length(up) - (k - 1));
    up := rtrim(up, '0');
    down_ok := down <> '' and cs_private.reads_back_as('0.' || down || 'e' || down_point, f);
    up_ok := cs_private.reads_back_as('0.' || up || 'e' || up_point, f);
    exit when not down_ok and not up_ok;
    if up_ok and (not down_ok or right(digits, 1)::integer >= 5) then
      digits := up;
      point := up_point;
    else
      digits := down;
      point := down_point;
    end if;
  end loop;
end
$$;

-- ECMAScript Number::toString of the double nearest to n (RFC 8785 section 3.2.2.3): 0002's
-- layout rules, over the digits above.
create or replace function cs_private.canonical_number(n numeric) returns text
language plpgsql immutable strict parallel safe
set search_path = ''
as $$
declare
  f constant double precision := n::double precision;  -- raises for numbers outside the double range
  sign constant text := case when f < 0 then '-' else '' end;
  shortest record;
  digits text;
  point integer;
  k integer;
begin
  if f = 0 then
    return '0';
  end if;
  shortest := cs_private.shortest_double_digits(f);
  digits := shortest.digits;
  point := shortest.point;
  k := length(digits);
  if k <= point and point <= 21 then
    return sign || digits || repeat('0', point - k);
  elsif 0 < point and point <= 21 then
    return sign || left(digits, point) || '.' || substr(digits, point + 1);
  elsif -6 < point and point <= 0 then
    return sign || '0.' || repeat('0', -point) || digits;
  else
    return sign || left(digits, 1)
      || case when k > 1 then '.' || substr(digits, 2) else '' end
      || 'e' || case when point - 1 > 0 then '+' else '-' end || abs(point - 1)::text;
  end if;
end
$$;

revoke all on function cs_private.reads_back_as(text, double precision),
  cs_private.shortest_double_digits(double precision) from public;
-- canonical_number runs as the caller in public.signing_content (0044), and so do these.
grant execute on function cs_private.reads_back_as(text, double precision),
  cs_private.shortest_double_digits(double precision) to authenticated;
