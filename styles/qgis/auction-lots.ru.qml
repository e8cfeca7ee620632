<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Labeling|Rendering" labelsEnabled="1" hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0">
 <renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" forceraster="0" enableorderby="0" referencescale="-1">
  <categories>
   <category symbol="0" value="published" type="string" label="Объявлен (регистрация)" render="true" />
   <category symbol="1" value="open" type="string" label="Идут торги" render="true" />
   <category symbol="2" value="" type="string" label="Прочие значения" render="true" />
  </categories>
  <symbols>
   <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0" is_animated="0" frame_rate="10">
    <data_defined_properties>
     <Option type="Map">
      <Option name="name" type="QString" value="" />
      <Option name="properties" />
      <Option name="type" type="QString" value="collection" />
     </Option>
    </data_defined_properties>
    <layer class="SimpleFill" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="color" type="QString" value="142,36,170,51" />
      <Option name="joinstyle" type="QString" value="bevel" />
      <Option name="offset" type="QString" value="0,0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="outline_color" type="QString" value="35,35,35,255" />
      <Option name="outline_style" type="QString" value="no" />
      <Option name="outline_width" type="QString" value="0.26" />
      <Option name="outline_width_unit" type="QString" value="MM" />
      <Option name="style" type="QString" value="solid" />
     </Option>
     <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="color" v="142,36,170,51" />
     <prop k="joinstyle" v="bevel" />
     <prop k="offset" v="0,0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="outline_color" v="35,35,35,255" />
     <prop k="outline_style" v="no" />
     <prop k="outline_width" v="0.26" />
     <prop k="outline_width_unit" v="MM" />
     <prop k="style" v="solid" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
    <layer class="SimpleLine" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="align_dash_pattern" type="QString" value="0" />
      <Option name="capstyle" type="QString" value="round" />
      <Option name="customdash" type="QString" value="2.65;1.32" />
      <Option name="customdash_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="customdash_unit" type="QString" value="MM" />
      <Option name="dash_pattern_offset" type="QString" value="0" />
      <Option name="dash_pattern_offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="dash_pattern_offset_unit" type="QString" value="MM" />
      <Option name="draw_inside_polygon" type="QString" value="0" />
      <Option name="joinstyle" type="QString" value="round" />
      <Option name="line_color" type="QString" value="106,27,154,255" />
      <Option name="line_style" type="QString" value="solid" />
      <Option name="line_width" type="QString" value="0.66" />
      <Option name="line_width_unit" type="QString" value="MM" />
      <Option name="offset" type="QString" value="0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="ring_filter" type="QString" value="0" />
      <Option name="trim_distance_end" type="QString" value="0" />
      <Option name="trim_distance_end_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_end_unit" type="QString" value="MM" />
      <Option name="trim_distance_start" type="QString" value="0" />
      <Option name="trim_distance_start_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_start_unit" type="QString" value="MM" />
      <Option name="tweak_dash_pattern_on_corners" type="QString" value="0" />
      <Option name="use_custom_dash" type="QString" value="1" />
      <Option name="width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
     </Option>
     <prop k="align_dash_pattern" v="0" />
     <prop k="capstyle" v="round" />
     <prop k="customdash" v="2.65;1.32" />
     <prop k="customdash_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="customdash_unit" v="MM" />
     <prop k="dash_pattern_offset" v="0" />
     <prop k="dash_pattern_offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="dash_pattern_offset_unit" v="MM" />
     <prop k="draw_inside_polygon" v="0" />
     <prop k="joinstyle" v="round" />
     <prop k="line_color" v="106,27,154,255" />
     <prop k="line_style" v="solid" />
     <prop k="line_width" v="0.66" />
     <prop k="line_width_unit" v="MM" />
     <prop k="offset" v="0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="ring_filter" v="0" />
     <prop k="trim_distance_end" v="0" />
     <prop k="trim_distance_end_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_end_unit" v="MM" />
     <prop k="trim_distance_start" v="0" />
     <prop k="trim_distance_start_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_start_unit" v="MM" />
     <prop k="tweak_dash_pattern_on_corners" v="0" />
     <prop k="use_custom_dash" v="1" />
     <prop k="width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
   </symbol>
   <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0" is_animated="0" frame_rate="10">
    <data_defined_properties>
     <Option type="Map">
      <Option name="name" type="QString" value="" />
      <Option name="properties" />
      <Option name="type" type="QString" value="collection" />
     </Option>
    </data_defined_properties>
    <layer class="SimpleFill" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="color" type="QString" value="230,81,0,76" />
      <Option name="joinstyle" type="QString" value="bevel" />
      <Option name="offset" type="QString" value="0,0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="outline_color" type="QString" value="35,35,35,255" />
      <Option name="outline_style" type="QString" value="no" />
      <Option name="outline_width" type="QString" value="0.26" />
      <Option name="outline_width_unit" type="QString" value="MM" />
      <Option name="style" type="QString" value="solid" />
     </Option>
     <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="color" v="230,81,0,76" />
     <prop k="joinstyle" v="bevel" />
     <prop k="offset" v="0,0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="outline_color" v="35,35,35,255" />
     <prop k="outline_style" v="no" />
     <prop k="outline_width" v="0.26" />
     <prop k="outline_width_unit" v="MM" />
     <prop k="style" v="solid" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
    <layer class="SimpleLine" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="align_dash_pattern" type="QString" value="0" />
      <Option name="capstyle" type="QString" value="round" />
      <Option name="customdash" type="QString" value="5;2" />
      <Option name="customdash_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="customdash_unit" type="QString" value="MM" />
      <Option name="dash_pattern_offset" type="QString" value="0" />
      <Option name="dash_pattern_offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="dash_pattern_offset_unit" type="QString" value="MM" />
      <Option name="draw_inside_polygon" type="QString" value="0" />
      <Option name="joinstyle" type="QString" value="round" />
      <Option name="line_color" type="QString" value="191,54,12,255" />
      <Option name="line_style" type="QString" value="solid" />
      <Option name="line_width" type="QString" value="0.79" />
      <Option name="line_width_unit" type="QString" value="MM" />
      <Option name="offset" type="QString" value="0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="ring_filter" type="QString" value="0" />
      <Option name="trim_distance_end" type="QString" value="0" />
      <Option name="trim_distance_end_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_end_unit" type="QString" value="MM" />
      <Option name="trim_distance_start" type="QString" value="0" />
      <Option name="trim_distance_start_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_start_unit" type="QString" value="MM" />
      <Option name="tweak_dash_pattern_on_corners" type="QString" value="0" />
      <Option name="use_custom_dash" type="QString" value="0" />
      <Option name="width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
     </Option>
     <prop k="align_dash_pattern" v="0" />
     <prop k="capstyle" v="round" />
     <prop k="customdash" v="5;2" />
     <prop k="customdash_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="customdash_unit" v="MM" />
     <prop k="dash_pattern_offset" v="0" />
     <prop k="dash_pattern_offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="dash_pattern_offset_unit" v="MM" />
     <prop k="draw_inside_polygon" v="0" />
     <prop k="joinstyle" v="round" />
     <prop k="line_color" v="191,54,12,255" />
     <prop k="line_style" v="solid" />
     <prop k="line_width" v="0.79" />
     <prop k="line_width_unit" v="MM" />
     <prop k="offset" v="0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="ring_filter" v="0" />
     <prop k="trim_distance_end" v="0" />
     <prop k="trim_distance_end_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_end_unit" v="MM" />
     <prop k="trim_distance_start" v="0" />
     <prop k="trim_distance_start_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_start_unit" v="MM" />
     <prop k="tweak_dash_pattern_on_corners" v="0" />
     <prop k="use_custom_dash" v="0" />
     <prop k="width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
   </symbol>
   <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0" is_animated="0" frame_rate="10">
    <data_defined_properties>
     <Option type="Map">
      <Option name="name" type="QString" value="" />
      <Option name="properties" />
      <Option name="type" type="QString" value="collection" />
     </Option>
    </data_defined_properties>
    <layer class="SimpleFill" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="color" type="QString" value="189,189,189,76" />
      <Option name="joinstyle" type="QString" value="bevel" />
      <Option name="offset" type="QString" value="0,0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="outline_color" type="QString" value="35,35,35,255" />
      <Option name="outline_style" type="QString" value="no" />
      <Option name="outline_width" type="QString" value="0.26" />
      <Option name="outline_width_unit" type="QString" value="MM" />
      <Option name="style" type="QString" value="solid" />
     </Option>
     <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="color" v="189,189,189,76" />
     <prop k="joinstyle" v="bevel" />
     <prop k="offset" v="0,0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="outline_color" v="35,35,35,255" />
     <prop k="outline_style" v="no" />
     <prop k="outline_width" v="0.26" />
     <prop k="outline_width_unit" v="MM" />
     <prop k="style" v="solid" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
    <layer class="SimpleLine" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="align_dash_pattern" type="QString" value="0" />
      <Option name="capstyle" type="QString" value="round" />
      <Option name="customdash" type="QString" value="5;2" />
      <Option name="customdash_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="customdash_unit" type="QString" value="MM" />
      <Option name="dash_pattern_offset" type="QString" value="0" />
      <Option name="dash_pattern_offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="dash_pattern_offset_unit" type="QString" value="MM" />
      <Option name="draw_inside_polygon" type="QString" value="0" />
      <Option name="joinstyle" type="QString" value="round" />
      <Option name="line_color" type="QString" value="85,85,85,255" />
      <Option name="line_style" type="QString" value="solid" />
      <Option name="line_width" type="QString" value="0.26" />
      <Option name="line_width_unit" type="QString" value="MM" />
      <Option name="offset" type="QString" value="0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="ring_filter" type="QString" value="0" />
      <Option name="trim_distance_end" type="QString" value="0" />
      <Option name="trim_distance_end_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_end_unit" type="QString" value="MM" />
      <Option name="trim_distance_start" type="QString" value="0" />
      <Option name="trim_distance_start_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_start_unit" type="QString" value="MM" />
      <Option name="tweak_dash_pattern_on_corners" type="QString" value="0" />
      <Option name="use_custom_dash" type="QString" value="0" />
      <Option name="width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
     </Option>
     <prop k="align_dash_pattern" v="0" />
     <prop k="capstyle" v="round" />
     <prop k="customdash" v="5;2" />
     <prop k="customdash_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="customdash_unit" v="MM" />
     <prop k="dash_pattern_offset" v="0" />
     <prop k="dash_pattern_offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="dash_pattern_offset_unit" v="MM" />
     <prop k="draw_inside_polygon" v="0" />
     <prop k="joinstyle" v="round" />
     <prop k="line_color" v="85,85,85,255" />
     <prop k="line_style" v="solid" />
     <prop k="line_width" v="0.26" />
     <prop k="line_width_unit" v="MM" />
     <prop k="offset" v="0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="ring_filter" v="0" />
     <prop k="trim_distance_end" v="0" />
     <prop k="trim_distance_end_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_end_unit" v="MM" />
     <prop k="trim_distance_start" v="0" />
     <prop k="trim_distance_start_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_start_unit" v="MM" />
     <prop k="tweak_dash_pattern_on_corners" v="0" />
     <prop k="use_custom_dash" v="0" />
     <prop k="width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
   </symbol>
  </symbols>
  <source-symbol>
   <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0" is_animated="0" frame_rate="10">
    <data_defined_properties>
     <Option type="Map">
      <Option name="name" type="QString" value="" />
      <Option name="properties" />
      <Option name="type" type="QString" value="collection" />
     </Option>
    </data_defined_properties>
    <layer class="SimpleFill" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="border_width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="color" type="QString" value="189,189,189,76" />
      <Option name="joinstyle" type="QString" value="bevel" />
      <Option name="offset" type="QString" value="0,0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="outline_color" type="QString" value="35,35,35,255" />
      <Option name="outline_style" type="QString" value="no" />
      <Option name="outline_width" type="QString" value="0.26" />
      <Option name="outline_width_unit" type="QString" value="MM" />
      <Option name="style" type="QString" value="solid" />
     </Option>
     <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="color" v="189,189,189,76" />
     <prop k="joinstyle" v="bevel" />
     <prop k="offset" v="0,0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="outline_color" v="35,35,35,255" />
     <prop k="outline_style" v="no" />
     <prop k="outline_width" v="0.26" />
     <prop k="outline_width_unit" v="MM" />
     <prop k="style" v="solid" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
    <layer class="SimpleLine" enabled="1" locked="0" pass="0">
     <Option type="Map">
      <Option name="align_dash_pattern" type="QString" value="0" />
      <Option name="capstyle" type="QString" value="round" />
      <Option name="customdash" type="QString" value="5;2" />
      <Option name="customdash_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="customdash_unit" type="QString" value="MM" />
      <Option name="dash_pattern_offset" type="QString" value="0" />
      <Option name="dash_pattern_offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="dash_pattern_offset_unit" type="QString" value="MM" />
      <Option name="draw_inside_polygon" type="QString" value="0" />
      <Option name="joinstyle" type="QString" value="round" />
      <Option name="line_color" type="QString" value="85,85,85,255" />
      <Option name="line_style" type="QString" value="solid" />
      <Option name="line_width" type="QString" value="0.26" />
      <Option name="line_width_unit" type="QString" value="MM" />
      <Option name="offset" type="QString" value="0" />
      <Option name="offset_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="offset_unit" type="QString" value="MM" />
      <Option name="ring_filter" type="QString" value="0" />
      <Option name="trim_distance_end" type="QString" value="0" />
      <Option name="trim_distance_end_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_end_unit" type="QString" value="MM" />
      <Option name="trim_distance_start" type="QString" value="0" />
      <Option name="trim_distance_start_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
      <Option name="trim_distance_start_unit" type="QString" value="MM" />
      <Option name="tweak_dash_pattern_on_corners" type="QString" value="0" />
      <Option name="use_custom_dash" type="QString" value="0" />
      <Option name="width_map_unit_scale" type="QString" value="3x:0,0,0,0,0,0" />
     </Option>
     <prop k="align_dash_pattern" v="0" />
     <prop k="capstyle" v="round" />
     <prop k="customdash" v="5;2" />
     <prop k="customdash_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="customdash_unit" v="MM" />
     <prop k="dash_pattern_offset" v="0" />
     <prop k="dash_pattern_offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="dash_pattern_offset_unit" v="MM" />
     <prop k="draw_inside_polygon" v="0" />
     <prop k="joinstyle" v="round" />
     <prop k="line_color" v="85,85,85,255" />
     <prop k="line_style" v="solid" />
     <prop k="line_width" v="0.26" />
     <prop k="line_width_unit" v="MM" />
     <prop k="offset" v="0" />
     <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="offset_unit" v="MM" />
     <prop k="ring_filter" v="0" />
     <prop k="trim_distance_end" v="0" />
     <prop k="trim_distance_end_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_end_unit" v="MM" />
     <prop k="trim_distance_start" v="0" />
     <prop k="trim_distance_start_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <prop k="trim_distance_start_unit" v="MM" />
     <prop k="tweak_dash_pattern_on_corners" v="0" />
     <prop k="use_custom_dash" v="0" />
     <prop k="width_map_unit_scale" v="3x:0,0,0,0,0,0" />
     <data_defined_properties>
      <Option type="Map">
       <Option name="name" type="QString" value="" />
       <Option name="properties" />
       <Option name="type" type="QString" value="collection" />
      </Option>
     </data_defined_properties>
    </layer>
   </symbol>
  </source-symbol>
  <rotation />
  <sizescale />
 </renderer-v2>
 <labeling type="simple">
  <settings calloutType="simple">
   <text-style fieldName="coalesce(&quot;number&quot;, '') || '\n' || coalesce(&quot;name&quot;, '') || ', ' || coalesce(CASE WHEN &quot;status&quot; = 'published' THEN 'Объявлен (регистрация)' WHEN &quot;status&quot; = 'open' THEN 'Идут торги' ELSE &quot;status&quot; END, '')" isExpression="1" fontFamily="Noto Sans" namedStyle="Bold" fontWeight="75" fontSize="8" fontSizeUnit="Point" fontItalic="0" fontUnderline="0" fontStrikeout="0" fontKerning="1" fontLetterSpacing="0" fontWordSpacing="0" textColor="43,43,43,255" textOpacity="1" blendMode="0" multilineHeight="1" allowHtml="0" capitalization="0" useSubstitutions="0" textOrientation="horizontal" previewBkgrdColor="255,255,255,255" fontSizeMapUnitScale="3x:0,0,0,0,0,0">
    <text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1" bufferNoFill="1" bufferJoinStyle="128" bufferBlendMode="0" bufferSizeMapUnitScale="3x:0,0,0,0,0,0" />
   </text-style>
   <text-format wrapChar="" multilineAlign="1" autoWrapLength="0" useMaxLineLengthForAutoWrap="1" formatNumbers="0" decimals="3" plussign="0" />
   <placement placement="1" layerType="PolygonGeometry" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0" dist="0" distUnits="MM" priority="5" offsetType="0" quadOffset="4" xOffset="0" yOffset="0" rotationAngle="0" polygonPlacementFlags="2" overlapHandling="PreventOverlap" distMapUnitScale="3x:0,0,0,0,0,0" />
   <rendering drawLabels="1" scaleVisibility="1" scaleMin="0" scaleMax="2500000" obstacle="1" obstacleFactor="1" obstacleType="1" minFeatureSize="3" labelPerPart="0" mergeLines="0" limitNumLabels="0" maxNumLabels="2000" upsidedownLabels="0" fontLimitPixelSize="0" fontMinPixelSize="3" fontMaxPixelSize="10000" zIndex="0" unplacedVisibility="0" />
   <dd_properties>
    <Option type="Map">
     <Option name="name" type="QString" value="" />
     <Option name="properties" />
     <Option name="type" type="QString" value="collection" />
    </Option>
   </dd_properties>
  </settings>
 </labeling>
 <blendMode>0</blendMode>
 <featureBlendMode>0</featureBlendMode>
 <layerOpacity>1</layerOpacity>
 <layerGeometryType>2</layerGeometryType>
</qgis>
